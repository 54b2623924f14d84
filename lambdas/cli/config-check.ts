import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError, parseSyncConfig, type SyncConfig, syncConfigSchema } from '../domain/config';
import { CONFIG_ENV } from '../runtime/environment';
import { CliError } from './errors';

/**
 * The CLI's config loading: the file from `--config` (else NLB_SYNC_CONFIG, else NLB_SYNC_CONFIG_FILE), checked
 * offline by the product's zod schema, plus unknown keys (a misspelled key would otherwise be dropped in
 * silence and its default used). Every problem names its field.
 */

/** Where the config came from, for messages. */
export interface ConfigSource {
  readonly text: string;
  /** A path, or the environment variable's name. */
  readonly name: string;
}

/** One problem with the config: the field (dotted path, `(root)` for the whole file) and what is wrong. */
export interface ConfigProblem {
  readonly field: string;
  readonly message: string;
}

/** The outcome of checking a config. */
export type ConfigCheck =
  | { readonly ok: true; readonly config: SyncConfig; readonly source: string }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[]; readonly source: string };

/**
 * Finds the config text: `--config PATH` wins, then NLB_SYNC_CONFIG (JSON), then NLB_SYNC_CONFIG_FILE (a path).
 * @throws CliError when none is given or the file cannot be read.
 */
export function readConfigSource(path: string | undefined, env: NodeJS.ProcessEnv): ConfigSource {
  const inline = env[CONFIG_ENV.inline];
  if (path === undefined && inline !== undefined && inline.trim() !== '') {
    return { text: inline, name: `environment variable ${CONFIG_ENV.inline}` };
  }
  const file = path ?? env[CONFIG_ENV.file];
  if (file === undefined || file.trim() === '') {
    throw new CliError(`no config: set --config PATH or ${CONFIG_ENV.file}=PATH`);
  }
  try {
    return { text: readFileSync(file, 'utf8'), name: file };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CliError(`cannot read config ${file}: ${why}; check the path given to --config`);
  }
}

/** Checks a config's text: JSON syntax, unknown keys, then the schema; never throws for a bad config. */
export function checkConfig(source: ConfigSource): ConfigCheck {
  let raw: unknown;
  try {
    raw = JSON.parse(source.text);
  } catch (error) {
    return {
      ok: false,
      source: source.name,
      problems: [{ field: '(root)', message: `not valid JSON: ${(error as Error).message}` }],
    };
  }
  const problems: ConfigProblem[] = unknownKeys(raw, syncConfigSchema).map((p) => p);
  let config: SyncConfig | undefined;
  try {
    config = parseSyncConfig(raw, source.name);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const issue of error.issues) {
      const at = issue.indexOf(': ');
      const problem =
        at < 0
          ? { field: '(root)', message: issue }
          : { field: issue.slice(0, at), message: issue.slice(at + 2) };
      // The schema may itself refuse unknown keys with the same words: keep one of each.
      if (!problems.some((p) => p.field === problem.field && p.message === problem.message))
        problems.push(problem);
    }
  }
  if (problems.length > 0 || config === undefined) return { ok: false, problems, source: source.name };
  return { ok: true, config, source: source.name };
}

/**
 * Loads and checks the config for a command that needs a valid one.
 * @throws CliError naming every failing field, on one line.
 */
export function loadCliConfig(path: string | undefined, env: NodeJS.ProcessEnv): SyncConfig {
  const check = checkConfig(readConfigSource(path, env));
  if (check.ok) return check.config;
  const list = check.problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  throw new CliError(
    `bad config ${check.source}: ${list} (fix the field${check.problems.length > 1 ? 's' : ''}; \`nlb-nodeport-sync validate\` lists them)`,
  );
}

interface ZodDef {
  readonly type: string;
  readonly innerType?: z.core.$ZodType;
  readonly element?: z.core.$ZodType;
  readonly shape?: Record<string, z.core.$ZodType>;
  readonly valueType?: z.core.$ZodType;
  readonly in?: z.core.$ZodType;
}

function defOf(schema: z.core.$ZodType): ZodDef {
  return (schema as unknown as { _zod: { def: ZodDef } })._zod.def;
}

/** Keys of `raw` that the schema does not know, with the nearest known key when one is close. */
export function unknownKeys(
  raw: unknown,
  schema: z.core.$ZodType,
  path: readonly (string | number)[] = [],
): ConfigProblem[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
      return def.innerType === undefined ? [] : unknownKeys(raw, def.innerType, path);
    case 'pipe':
      return def.in === undefined ? [] : unknownKeys(raw, def.in, path);
    case 'array':
      if (!Array.isArray(raw) || def.element === undefined) return [];
      return raw.flatMap((item, i) => unknownKeys(item, def.element as z.core.$ZodType, [...path, i]));
    case 'record':
      if (!isPlainObject(raw) || def.valueType === undefined) return [];
      return Object.entries(raw).flatMap(([k, v]) =>
        unknownKeys(v, def.valueType as z.core.$ZodType, [...path, k]),
      );
    case 'object': {
      if (!isPlainObject(raw) || def.shape === undefined) return [];
      const shape = def.shape;
      const known = Object.keys(shape);
      return Object.entries(raw).flatMap(([key, value]) => {
        const child = shape[key];
        if (child !== undefined) return unknownKeys(value, child, [...path, key]);
        const near = nearest(key, known);
        return [
          {
            field: [...path, key].join('.'),
            message: near === undefined ? 'unknown key' : `unknown key; did you mean "${near}"?`,
          },
        ];
      });
    }
    default:
      return [];
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The known key closest to `key` (case-insensitive edit distance at most a third of its length, min 2). */
function nearest(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { key: candidate, distance };
  }
  if (best === undefined) return undefined;
  return best.distance <= Math.max(2, Math.floor(key.length / 3)) ? best.key : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
