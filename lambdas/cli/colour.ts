/**
 * Colour rules: colour only when the report goes to a terminal, never with `--json`, never when `NO_COLOR`
 * is set to anything non-empty (https://no-color.org), never on `TERM=dumb`.
 */

/** What decides whether the report is coloured. */
export interface ColourContext {
  readonly isTTY: boolean;
  readonly json: boolean;
  readonly env: NodeJS.ProcessEnv;
}

/** Whether to colour the report. */
export function useColour({ isTTY, json, env }: ColourContext): boolean {
  if (json || !isTTY) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return env.TERM !== 'dumb';
}

/** Paints text; the identity painter when colour is off. */
export interface Painter {
  readonly green: (text: string) => string;
  readonly red: (text: string) => string;
  readonly yellow: (text: string) => string;
  readonly bold: (text: string) => string;
  readonly dim: (text: string) => string;
}

const ansi =
  (open: number, close: number) =>
  (text: string): string =>
    `\u001b[${open}m${text}\u001b[${close}m`;

/** A painter: ANSI colours when `enabled`, plain text otherwise. */
export function painter(enabled: boolean): Painter {
  if (!enabled) {
    const plain = (text: string) => text;
    return { green: plain, red: plain, yellow: plain, bold: plain, dim: plain };
  }
  return {
    green: ansi(32, 39),
    red: ansi(31, 39),
    yellow: ansi(33, 39),
    bold: ansi(1, 22),
    dim: ansi(2, 22),
  };
}

/** The plain painter, for tests and JSON. */
export const PLAIN: Painter = painter(false);
