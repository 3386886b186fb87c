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

/** Narrowest terminal the spinner draws on (a 0×0 or unknown size is a pseudo-terminal with no real screen). */
const MIN_COLUMNS = 20;

/**
 * Whether gen draws a spinner: only on a TTY (stderr) of a usable size, never under CI (any non-empty CI but
 * "false"/"0"), never when TERM=dumb.
 */
export function spinnerAllowed(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!stream.isTTY) return false;
  const ci = env.CI;
  if (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') return false;
  if (env.TERM === 'dumb') return false;
  const { columns, rows } = stream;
  return Number.isFinite(columns) && columns >= MIN_COLUMNS && Number.isFinite(rows) && rows > 0;
}

/** Colour on a TTY: FORCE_COLOR (1/2/3 on, 0 off) wins, then NO_COLOR (any non-empty value: off), else on. */
export function colorAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  return !(env.NO_COLOR !== undefined && env.NO_COLOR !== '');
}

/** An ora spinner on a usable TTY (stderr), nothing otherwise. */
export async function spinner(text: string, enabled: boolean): Promise<{ succeed(t: string): void; fail(t: string): void; stop(): void }> {
  const noop = { succeed() {}, fail() {}, stop() {} };
  if (!enabled || !spinnerAllowed()) return noop;
  const color = colorAllowed();
  // chalk (ora's colours) reads FORCE_COLOR once, when it loads
  if (!color) process.env.FORCE_COLOR = '0';
  const { default: ora } = await import('ora');
  const s = ora({ text, stream: process.stderr, color: color ? 'cyan' : false, isEnabled: true, discardStdin: false }).start();
  // a terminal shrunk below a usable size while the spinner runs: stop drawing (ora divides by the width)
  let stopped = false;
  const onResize = () => {
    if (spinnerAllowed()) return;
    stopped = true;
    s.stop();
  };
  process.stderr.on('resize', onResize);
  const end = (symbol: string, t: string, colored: () => void) => {
    process.stderr.off('resize', onResize);
    if (stopped) process.stderr.write(`${symbol} ${t}\n`);
    else if (color) colored();
    else s.stopAndPersist({ symbol, text: t });
  };
  return {
    succeed: (t) => end('✔', t, () => s.succeed(t)),
    fail: (t) => end('✖', t, () => s.fail(t)),
    stop: () => {
      process.stderr.off('resize', onResize);
      s.stop();
    },
  };
}
