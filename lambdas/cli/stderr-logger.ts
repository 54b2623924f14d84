import { Logger } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';

/**
 * The CLI's Powertools logger: the same JSON log items as in Lambda, written to stderr so that stdout carries
 * the report alone. Powertools writes to stdout through a private `Console`; this subclass replaces that
 * console after construction, and `createLogger` (the protected hook `createChild` uses) makes children of
 * the same class, so the pass's child loggers write to stderr too.
 *
 * `human: true` (a terminal, no `--json`) prints `level message {attributes}` instead of the raw JSON line.
 */
export class StderrLogger extends Logger {
  readonly #write: (line: string) => void;
  readonly #human: boolean;

  public constructor(
    options: ConstructorOptions = {},
    output: { write: (line: string) => void; human?: boolean } = {
      write: (line) => process.stderr.write(line),
    },
  ) {
    super(options);
    this.#write = output.write;
    this.#human = output.human ?? false;
    const print = (text: unknown) => this.#write(`${this.#human ? humanLine(String(text)) : String(text)}\n`);
    // `console` is private in the type but a plain field at run time; it is what printLog writes to.
    (this as unknown as { console: Record<string, (text: unknown) => void> }).console = {
      log: print,
      info: print,
      warn: print,
      error: print,
      debug: print,
      trace: print,
    };
  }

  protected override createLogger(options?: ConstructorOptions): Logger {
    return new StderrLogger(options, { write: this.#write, human: this.#human });
  }
}

/** A Powertools JSON log line as `level message {other attributes}`; other text is kept as it is. */
export function humanLine(json: string): string {
  let item: Record<string, unknown>;
  try {
    item = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { level, message, timestamp: _t, service: _s, sampling_rate: _r, ...rest } = item;
  const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
  return `${String(level ?? 'log').toLowerCase()}: ${String(message ?? '')}${extra}`;
}
