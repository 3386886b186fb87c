import readline from 'node:readline/promises';

/** gen asks questions only on a real terminal, and never under CI. */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY) && !process.env.CI;
}

export async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    return answer === 'y' || answer === 'yes';
  } finally {
    rl.close();
  }
}

/** An ora spinner on a TTY (stderr), nothing otherwise. */
export async function spinner(text: string, enabled: boolean): Promise<{ succeed(t: string): void; fail(t: string): void; stop(): void }> {
  const noop = { succeed() {}, fail() {}, stop() {} };
  if (!enabled || !process.stderr.isTTY || process.env.CI) return noop;
  const { default: ora } = await import('ora');
  const s = ora({ text, stream: process.stderr }).start();
  return { succeed: (t) => s.succeed(t), fail: (t) => s.fail(t), stop: () => s.stop() };
}
