/**
 * The demo's timeline: watches what the product's handler did (its result, not its logs) and prints, per
 * instance and on the virtual clock, when targets were registered and deregistered, when a lifecycle
 * action was held, heartbeated and answered, and why. Used only by bin/demo.ts.
 */
import type { ReconcileHandlerResult } from '../lambdas/handlers/reconcile-handler';
import type { VirtualTime } from '../test/support/virtual-time';

interface Line {
  readonly at: number;
  readonly instanceId: string;
  readonly text: string;
  readonly answer?: {
    readonly kind: 'launch' | 'terminate';
    readonly result: string;
    readonly reason: string;
  };
}

/** Collects the timeline of one step of the demo. */
export class Story {
  private lines: Line[] = [];
  private origin = 0;
  /** Private IP -> instance id, from every pass seen: a target of a vanished node is still named by its node. */
  private readonly instanceByIp = new Map<string, string>();

  public constructor(private readonly time: VirtualTime) {}

  /** Starts a new step: times are printed from here. */
  public begin(): void {
    this.lines = [];
    this.origin = this.time.elapsedSeconds();
  }

  /** Wraps the handler so that everything it does lands on the timeline. */
  public watch(
    handler: (event: unknown) => Promise<ReconcileHandlerResult>,
  ): (event: unknown) => Promise<ReconcileHandlerResult> {
    return async (event) => {
      const result = await handler(event);
      this.record(result);
      return result;
    };
  }

  /** Prints the step's timeline. */
  public print(): void {
    for (const line of this.lines) {
      console.log(`   t+${String(line.at - this.origin).padStart(3)}s  ${line.instanceId}  ${line.text}`);
    }
  }

  /**
   * Checks every instance got exactly one answer of the kind, CONTINUE, whose reason names the condition,
   * and not at the moment it was first handled (it was held). Returns the problems.
   */
  public check(kind: 'launch' | 'terminate', instanceIds: readonly string[], reason: string): string[] {
    const problems: string[] = [];
    for (const id of instanceIds) {
      const answers = this.lines.filter((l) => l.instanceId === id && l.answer?.kind === kind);
      const [answer] = answers;
      if (answers.length !== 1 || answer?.answer === undefined) {
        problems.push(`${kind} of ${id}: expected one answer, saw ${answers.length}`);
      } else if (answer.answer.result !== 'CONTINUE' || !answer.answer.reason.includes(reason)) {
        problems.push(`${kind} of ${id}: answered ${answer.answer.result} (${answer.answer.reason})`);
      } else if (answer.at === this.origin) {
        problems.push(`${kind} of ${id}: answered at once, not held`);
      }
    }
    return problems;
  }

  private record(result: ReconcileHandlerResult): void {
    const at = this.time.elapsedSeconds();
    const add = (instanceId: string, text: string, answer?: Line['answer']) =>
      this.lines.push({ at, instanceId, text, ...(answer !== undefined && { answer }) });
    const passes = [
      ...result.passes,
      ...result.lifecycle.flatMap((o) => (o.status !== 'skipped' && o.pass !== undefined ? [o.pass] : [])),
    ];
    for (const pass of passes) {
      for (const node of pass.nodes) {
        if (node.privateIp !== undefined) this.instanceByIp.set(node.privateIp, node.instanceId);
      }
      for (const id of pass.marked) add(id, 'drain mark written (EC2 tag): kept out of every later pass');
      const byInstance = new Map<string, { register: number; deregister: number }>();
      for (const change of pass.changes) {
        const id =
          change.action === 'register'
            ? change.instanceId
            : (this.instanceByIp.get(change.target.id) ?? change.target.id);
        const counts = byInstance.get(id) ?? { register: 0, deregister: 0 };
        counts[change.action] += 1;
        byInstance.set(id, counts);
      }
      for (const [id, counts] of byInstance) {
        if (counts.register > 0)
          add(id, `registered in ${counts.register} group(s): initial, health checks running`);
        if (counts.deregister > 0) add(id, `deregistered from ${counts.deregister} group(s): draining`);
      }
    }
    for (const outcome of result.lifecycle) {
      if (outcome.status === 'held') {
        const waitFor = outcome.hold.kind === 'launch' ? 'its targets to turn healthy' : 'draining to end';
        add(outcome.hold.action.instanceId, `${outcome.hold.kind} held: waiting for ${waitFor}`);
      } else if (outcome.status === 'answered') {
        const { instanceId, kind, result: answerResult, reason } = outcome.answer;
        add(instanceId, `${kind} answered ${answerResult}: ${reason}`, {
          kind,
          result: answerResult,
          reason,
        });
      }
    }
    for (const check of result.holdChecks) {
      if (check.status === 'answered') {
        const { instanceId, kind, result: answerResult, reason } = check.answer;
        add(instanceId, `${kind} answered ${answerResult}: ${reason}`, {
          kind,
          result: answerResult,
          reason,
        });
      } else if (check.status === 'waiting' && check.heartbeat) {
        add(check.instanceId, `${check.kind} still waiting (${check.reason}); heartbeat sent`);
      }
    }
  }
}
