/**
 * The CLI's exit codes, documented in one table in docs/cli.md. Scripts and CI jobs rely on them: change
 * one only with the docs and the tests.
 */
export const EXIT = {
  /** Done; for `plan --detailed-exitcode`: in sync. */
  ok: 0,
  /** An error: bad config, unknown cluster, no credentials, unreachable endpoint, a failed cluster, a refused plan. */
  error: 1,
  /** `plan --detailed-exitcode` only: it succeeded and there are changes to apply. */
  changesPending: 2,
  /** The command line itself is wrong: unknown command or option, missing or malformed argument (sysexits EX_USAGE). */
  usage: 64,
} as const;

/** One of {@link EXIT}'s values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
