/**
 * The demo's timeline: watches what the product's handler did (its result, not its logs) and tells it, as it
 * happens, per node and on the virtual clock: targets registered and deregistered, lifecycle actions held,
 * heartbeated and answered, drain marks. The words are the demo's own, in plain language; the product's
 * reasons are checked, not printed. Used only by bin/demo.ts.
 */
import type { TargetChange } from '../lambdas/domain/target-plan';
import type { ReconcileHandlerResult } from '../lambdas/handlers/reconcile-handler';
import type { VirtualTime } from '../test/support/virtual-time';

/** A lifecycle answer seen on the timeline. */
export interface Answer {
  readonly at: number;
  readonly instanceId: string;
  readonly kind: 'launch' | 'terminate';
  readonly result: string;
  readonly reason: string;
}

/** What the story knows of a node, to name it in plain words. */
export interface NodeLabel {
  readonly instanceId: string;
  readonly privateIp: string;
  readonly zone: string;
  readonly group: string;
}

/** Tells the timeline of each step of the demo. */
export class Story {
  private origin = 0;
  private answers: Answer[] = [];
  private changes: TargetChange[] = [];
  /** Private IP -> instance id, from every pass seen: a target of a vanished node is still named by its node. */
  private readonly instanceByIp = new Map<string, string>();
  /** Nodes the story saw registered, to tell a repair from a first registration. */
  private readonly registered = new Set<string>();

  /** @param say prints one line of the story. */
  public constructor(
    private readonly time: VirtualTime,
    private readonly say: (line: string) => void,
  ) {}

  /** Starts a step: a title, then times counted from here. */
  public begin(title: string, ...intro: string[]): void {
    this.say('');
    this.say(title);
    for (const line of intro) this.say(`  ${line}`);
    this.answers = [];
    this.changes = [];
    this.origin = this.time.elapsedSeconds();
  }

  /** Remembers nodes, to name targets by their node. */
  public know(nodes: readonly NodeLabel[]): void {
    for (const n of nodes) this.instanceByIp.set(n.privateIp, n.instanceId);
  }

  /** One line of the timeline at the current moment: something the world did (not the product). */
  public event(subject: string, text: string): void {
    this.say(`  ${this.stamp()}  ${subject}  ${text}`);
  }

  /** A line without a time. */
  public line(text: string): void {
    this.say(`  ${text}`);
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

  /** The target changes of this step, in order. */
  public stepChanges(): readonly TargetChange[] {
    return this.changes;
  }

  /**
   * Checks every instance got exactly one answer of the kind, CONTINUE, whose reason names the condition,
   * and not at the moment the step began (it was held). Returns the problems.
   */
  public check(kind: 'launch' | 'terminate', instanceIds: readonly string[], reason: string): string[] {
    const problems: string[] = [];
    for (const id of instanceIds) {
      const answers = this.answers.filter((a) => a.instanceId === id && a.kind === kind);
      const [answer] = answers;
      if (answers.length !== 1 || answer === undefined) {
        problems.push(`${kind} of ${id}: expected one answer, saw ${answers.length}`);
      } else if (answer.result !== 'CONTINUE' || !answer.reason.includes(reason)) {
        problems.push(`${kind} of ${id}: answered ${answer.result} (${answer.reason})`);
      } else if (answer.at === this.origin) {
        problems.push(`${kind} of ${id}: answered at once, not held`);
      }
    }
    return problems;
  }

  private stamp(): string {
    const seconds = this.time.elapsedSeconds() - this.origin;
    return `+${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  }

  private record(result: ReconcileHandlerResult): void {
    const passes = [
      ...result.passes,
      ...result.lifecycle.flatMap((o) => (o.status !== 'skipped' && o.pass !== undefined ? [o.pass] : [])),
    ];
    for (const pass of passes) {
      for (const node of pass.nodes) {
        if (node.privateIp !== undefined) this.instanceByIp.set(node.privateIp, node.instanceId);
      }
      for (const id of pass.marked) {
        this.event(id, 'drain mark set (an EC2 tag): no later pass will register it again');
      }
      this.changes.push(...pass.changes);
      this.tellChanges(pass.changes);
    }
    for (const outcome of result.lifecycle) {
      if (outcome.status === 'held') {
        const { kind, action } = outcome.hold;
        this.event(
          action.instanceId,
          kind === 'launch'
            ? 'launch held: Auto Scaling waits until the node passes its health checks'
            : 'terminate held: the instance stays until its connections have drained',
        );
      } else if (outcome.status === 'answered') this.answered(outcome.answer);
    }
    for (const check of result.holdChecks) {
      if (check.status === 'answered') this.answered(check.answer);
      else if (check.status === 'waiting' && check.heartbeat) {
        this.event(
          check.instanceId,
          check.kind === 'launch'
            ? 'still warming up: heartbeat sent, so the launch hook keeps waiting'
            : `still draining (${check.reason.replace(/^draining: /, '')}): heartbeat sent, so the terminate hook keeps waiting`,
        );
      } else if (check.status === 'failed')
        this.say(`  ${this.stamp()}  a re-check failed, retried: ${check.error}`);
    }
  }

  private answered(answer: {
    instanceId: string;
    kind: 'launch' | 'terminate';
    result: string;
    reason: string;
  }): void {
    this.answers.push({ at: this.time.elapsedSeconds(), ...answer });
    const plain =
      answer.result !== 'CONTINUE'
        ? `${answer.kind} answered ${answer.result}: ${answer.reason}`
        : answer.kind === 'launch'
          ? 'healthy in every group: launch released, the node is in service'
          : 'connections drained: terminate released, the instance may go';
    this.event(answer.instanceId, plain);
  }

  /** One line per node (or stranger target) and direction, naming the groups. */
  private tellChanges(changes: readonly TargetChange[]): void {
    const lines = new Map<string, { subject: string; text: string; mappings: string[] }>();
    const registeredNow: string[] = [];
    for (const change of changes) {
      const node =
        change.action === 'register'
          ? change.instanceId
          : (this.instanceByIp.get(change.target.id) ?? change.target.id);
      const known = node.startsWith('i-');
      const subject = known ? node : `${change.target.id}:${change.target.port}`;
      const text =
        change.action === 'register'
          ? this.registered.has(node)
            ? 'registered in {groups} again: the node still serves, so the group must hold it'
            : 'registered in {groups}: health checks start'
          : change.kind === 'leaving'
            ? 'deregistered from {groups}: draining, open connections may finish'
            : change.kind === 'replaced'
              ? 'deregistered from {groups}: its port is not the NodePort any more'
              : known
                ? 'deregistered from {groups}: the node is gone'
                : "deregistered from {groups}: no node has this address, and every target of a configured group is the product's unless preserved";
      if (change.action === 'register') registeredNow.push(node);
      const key = `${subject} ${text}`;
      const entry = lines.get(key) ?? { subject, text, mappings: [] };
      entry.mappings.push(change.mapping);
      lines.set(key, entry);
    }
    for (const id of registeredNow) this.registered.add(id);
    for (const { subject, text, mappings } of lines.values()) {
      this.event(subject, text.replace('{groups}', mappings.join(', ')));
    }
  }
}
