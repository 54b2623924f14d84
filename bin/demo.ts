#!/usr/bin/env node
/**
 * `npm run demo`: the whole product on a local moto, told as a story (README.md says what it shows).
 * Builds a realistic account (a VPC over three zones, two node groups, an NLB whose listeners 4000 and 4001 go
 * to ip target groups on NodePorts, an instance target group, a hosted zone), then plays, on a virtual clock:
 * the first sync, a scale-out held until healthy, a spot interruption, a scale-in held until drained, drift made
 * by hand and repaired by the scheduled pass; ends with the CLI's `status`. It checks its end state after every
 * step and exits 1 if anything did not converge. Files: bin/demo-play.ts (the story), demo-world.ts (the
 * account), demo-story.ts (the timeline), demo-settings.ts (paths).
 *
 * This file starts moto and loads the rest of the demo meanwhile (both take seconds), and stops moto by PID
 * at the end (unless --keep), on Ctrl-C too.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { type MotoServer, startMotoServer } from '../test/support/moto-server';
import { DEMO_DIR, type Kept, LOG_FILE, MOTO_LOG, REGION } from './demo-settings';

const USAGE = `usage: npx tsx bin/demo.ts [--json] [--keep]   (or: npm run demo -- [--keep]; npm run -s demo -- --json)
  --json  the story goes to stderr; stdout carries only the CLI's status document (schemaVersion 1)
  --keep  leave moto running afterwards and print the commands to look around and to stop it`;

interface Args {
  readonly json: boolean;
  readonly keep: boolean;
}

function parseArgs(argv: readonly string[]): Args | 'help' | string {
  let json = false;
  let keep = false;
  for (const arg of argv) {
    if (arg === '--json') json = true;
    else if (arg === '--keep') keep = true;
    else if (arg === '--help' || arg === '-h') return 'help';
    else return `unknown option ${arg}`;
  }
  return { json, keep };
}

async function main({ json, keep }: Args): Promise<number> {
  const out = json ? process.stderr : process.stdout;
  const say = (line: string) => out.write(`${line}\n`);
  mkdirSync(DEMO_DIR, { recursive: true });
  writeFileSync(LOG_FILE, '');
  // The SDK's notice about Node versions would be the first thing on the screen; the CLI switches it off too.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  // The rest of the demo (the SDK, the product) loads while moto starts; awaited below, inside the try.
  const loading = import('./demo-play');
  // Awaited below; if moto fails to start first, a failed load must not become an unhandled rejection.
  void loading.catch(() => undefined);
  // With --keep moto writes to a file and is not tied to this process, so it outlives it.
  const moto = await startMotoServer(keep ? { outputFile: MOTO_LOG } : {});
  const kept: Kept = {};
  // moto runs in its own process group, so Ctrl-C does not reach it: stop it here (by PID), unless kept.
  const interrupted = () => {
    const stopped = keep ? Promise.resolve() : moto.stop();
    void stopped.finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const { play } = await loading;
    return await play({ json, keep, say, colour: out.isTTY === true, moto, kept });
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    if (keep) printKeep(say, moto, kept);
    else await moto.stop();
  }
}

/** With --keep: where moto runs, the commands to look around, and how to stop it. */
function printKeep(say: (line: string) => void, moto: MotoServer, kept: Kept): void {
  const url = moto.endpoint;
  const config = kept.configFile ?? '<a config file>';
  say('');
  say(`moto keeps running on ${url} (PID ${moto.pid}; its output: ${MOTO_LOG}). Look around:`);
  say(
    `  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=${REGION} AWS_DEFAULT_REGION=${REGION}`,
  );
  say(`  npx nlb-nodeport-sync status --endpoint-url ${url} --config ${config}`);
  say(`  npx nlb-nodeport-sync plan --endpoint-url ${url} --config ${config} --detailed-exitcode`);
  say(
    `  aws --endpoint-url ${url} elbv2 describe-target-health --target-group-arn ${kept.targetGroupArn ?? '<arn>'}`,
  );
  say(`  aws --endpoint-url ${url} ec2 describe-security-group-rules`);
  say(`  aws --endpoint-url ${url} autoscaling describe-auto-scaling-groups`);
  say(
    '(moto answers alone now, without the demo\'s shim: every registered target "healthy", nothing draining)',
  );
  say(`Stop it: kill ${moto.pid}    then, to remove the config and logs: rm -r ${DEMO_DIR}`);
}

const parsed = parseArgs(process.argv.slice(2));
if (parsed === 'help') {
  process.stdout.write(`${USAGE}\n`);
} else if (typeof parsed === 'string') {
  process.stderr.write(`${parsed}\n${USAGE}\n`);
  process.exitCode = 64;
} else {
  main(parsed).then(
    (code) => {
      process.exitCode = code;
    },
    (error: Error) => {
      process.stderr.write(`demo failed: ${error.name}: ${error.message}\n`);
      process.exitCode = 1;
    },
  );
}
