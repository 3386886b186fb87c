import { describe, expect, test } from 'vitest';
import { colorAllowed, spinnerAllowed } from '../../src/util/tty.js';

const tty = (columns: number, rows: number) => ({ isTTY: true, columns, rows }) as unknown as NodeJS.WriteStream;

describe('spinnerAllowed', () => {
  test('a TTY of a usable size, not under CI', () => expect(spinnerAllowed(tty(80, 24), {})).toBe(true));
  test('never on a 0×0 pseudo-terminal, a narrow one or one without a size', () => {
    expect(spinnerAllowed(tty(0, 0), {})).toBe(false);
    expect(spinnerAllowed(tty(10, 24), {})).toBe(false);
    expect(spinnerAllowed({ isTTY: true } as unknown as NodeJS.WriteStream, {})).toBe(false);
  });
  test('never when not a TTY, under CI or on a dumb terminal', () => {
    expect(spinnerAllowed({ isTTY: false, columns: 80, rows: 24 } as unknown as NodeJS.WriteStream, {})).toBe(false);
    expect(spinnerAllowed(tty(80, 24), { CI: 'true' })).toBe(false);
    expect(spinnerAllowed(tty(80, 24), { CI: '1' })).toBe(false);
    expect(spinnerAllowed(tty(80, 24), { CI: 'false' })).toBe(true);
    expect(spinnerAllowed(tty(80, 24), { TERM: 'dumb' })).toBe(false);
  });
});

describe('colorAllowed', () => {
  test('NO_COLOR (any non-empty value) turns colour off; FORCE_COLOR wins over it', () => {
    expect(colorAllowed({})).toBe(true);
    expect(colorAllowed({ NO_COLOR: '1' })).toBe(false);
    expect(colorAllowed({ NO_COLOR: '' })).toBe(true);
    expect(colorAllowed({ NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(true);
    expect(colorAllowed({ FORCE_COLOR: '0' })).toBe(false);
  });
});
