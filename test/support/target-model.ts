/**
 * A model of ELBv2 target states for tests, used by the lifecycle shim (lifecycle-shim.ts) in front of moto.
 *
 * moto 5.2.1 reports every registered target `healthy` at once, forgets a deregistered one at once and keys
 * targets by `Id` alone. AWS registers a target as `initial` until its health checks pass, keeps a
 * deregistered one `draining` for the group's deregistration delay and keys targets by `Id` and `Port`.
 * Code that waits for either (new nodes serving, old nodes drained) cannot be tested against moto alone, and
 * must not be tested by sleeping for minutes. This model gives targets AWS's states on a virtual clock that
 * only the test advances.
 *
 * Everything here is pure: the shim feeds in what it read from moto and the request, and writes out what the
 * model says. The model is off until a test switches it on, so tests that expect moto's behaviour keep it.
 */
import { z } from 'zod';

/** Control path: `POST` switches the model on or off (JSON {@link TargetModelSettings}); `GET` reads it. */
export const TARGET_MODEL_PATH = '/shim/target-model';
/** Control path: `GET` reads the virtual clock; `POST` advances or sets it (JSON {@link ClockChange}). */
export const CLOCK_PATH = '/shim/clock';
/** Control path: `POST` forces a registered target's health (JSON {@link TargetHealthOverride}). */
export const TARGET_HEALTH_PATH = '/shim/targets/health';

/** The API version of ELBv2's awsQuery calls; other versions are not modelled. */
export const ELBV2_VERSION = '2015-12-01';

/** One of the control paths. */
export type ControlPath = typeof TARGET_MODEL_PATH | typeof CLOCK_PATH | typeof TARGET_HEALTH_PATH;

/** The ELBv2 actions whose requests or answers the model reads or rewrites. */
export const ModelledAction = {
  register: 'RegisterTargets',
  deregister: 'DeregisterTargets',
  describeHealth: 'DescribeTargetHealth',
  deleteGroup: 'DeleteTargetGroup',
} as const;

/** One of {@link ModelledAction}'s values. */
export type ModelledActionName = (typeof ModelledAction)[keyof typeof ModelledAction];

/** The target states the model reports, as AWS names them. */
export const ModelState = {
  initial: 'initial',
  healthy: 'healthy',
  unhealthy: 'unhealthy',
  unused: 'unused',
  draining: 'draining',
} as const;

/** One of {@link ModelState}'s values. */
export type ModelStateName = (typeof ModelState)[keyof typeof ModelState];

/** The reason codes the model reports, as AWS names them. */
export const ModelReason = {
  registrationInProgress: 'Elb.RegistrationInProgress',
  initialHealthChecking: 'Elb.InitialHealthChecking',
  failedHealthChecks: 'Target.FailedHealthChecks',
  notRegistered: 'Target.NotRegistered',
  deregistrationInProgress: 'Target.DeregistrationInProgress',
} as const;

/** One of {@link ModelReason}'s values. */
export type ModelReasonName = (typeof ModelReason)[keyof typeof ModelReason];

/** AWS's description for each reason code (from the ELBv2 API reference's TargetHealth). */
const REASON_DESCRIPTIONS: Readonly<Record<ModelReasonName, string>> = {
  'Elb.RegistrationInProgress': 'Target registration is in progress',
  'Elb.InitialHealthChecking': 'Initial health checks in progress',
  'Target.FailedHealthChecks': 'Health checks failed',
  'Target.NotRegistered': 'Target is not registered to the target group',
  'Target.DeregistrationInProgress': 'Target deregistration is in progress',
};

/** AWS's (and moto's) deregistration delay when a group does not set `deregistration_delay.timeout_seconds`. */
export const DEFAULT_DEREGISTRATION_DELAY_SECONDS = 300;
/** AWS's (and moto's) health check interval and healthy threshold for TCP target groups. */
const DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS = 30;
const DEFAULT_HEALTHY_THRESHOLD_COUNT = 5;

/** A target in a request: `Targets.member.N.Id` and `.Port`. */
export interface TargetRef {
  /** Instance id or IP address. */
  readonly id: string;
  /** Port; `undefined` only when neither the request nor the group names one (Lambda groups). */
  readonly port: number | undefined;
}

/** One `TargetHealthDescriptions` member of a DescribeTargetHealth answer. */
export interface TargetHealthEntry extends TargetRef {
  /** `Target.AvailabilityZone`, when the answer carries it (moto's does not). */
  readonly availabilityZone?: string;
  /** `HealthCheckPort`, e.g. `traffic-port` or `31000`. */
  readonly healthCheckPort?: string;
  /** `TargetHealth.State`. */
  readonly state: string;
  /** `TargetHealth.Reason`. */
  readonly reason?: string;
  /** `TargetHealth.Description`. */
  readonly description?: string;
}

/** What the model needs to know about a target group, read from moto's DescribeTargetGroups. */
export interface TargetGroupFacts {
  /** The group's port: the port of a target registered without one. */
  readonly port: number | undefined;
  /** The group's `HealthCheckPort`, reported for targets moto no longer lists. */
  readonly healthCheckPort: string | undefined;
  /** `HealthCheckIntervalSeconds`. */
  readonly healthCheckIntervalSeconds: number;
  /** `HealthyThresholdCount`. */
  readonly healthyThresholdCount: number;
}

/** Body of `POST /shim/target-model`. */
export interface TargetModelSettings {
  /** `true` switches the model on (keeping its targets); `false` switches it off and forgets everything. */
  readonly enabled: boolean;
  /**
   * Seconds from registration to `healthy` for targets registered from now on. Absent: the group's
   * `HealthCheckIntervalSeconds` x `HealthyThresholdCount`, as AWS needs that many passing checks.
   */
  readonly healthyAfterSeconds?: number;
  /** Sets the virtual clock (epoch milliseconds), e.g. to the product's injected clock. */
  readonly nowMs?: number;
}

/** Body of `POST /shim/clock`: move the clock forward by seconds, or set it (never backwards). */
export type ClockChange = { readonly advanceSeconds: number } | { readonly nowMs: number };

/** The virtual clock as `GET|POST /shim/clock` report it. */
export interface ClockReading {
  /** Milliseconds; 0 after a reset, or the epoch milliseconds a test set. */
  readonly nowMs: number;
  /** The same instant in seconds. */
  readonly nowSeconds: number;
}

/** Body of `POST /shim/targets/health`: force a registered target's health until set again. */
export interface TargetHealthOverride {
  /** The target group's ARN. */
  readonly targetGroupArn: string;
  /** Instance id or IP address. */
  readonly id: string;
  /** The port it was registered with. */
  readonly port: number;
  /** `unhealthy` (failed health checks) or `healthy` (passing again, or at once while `initial`). */
  readonly state: 'healthy' | 'unhealthy';
}

/** A target the model tracks, as `GET /shim/target-model` lists it. */
export interface ModelTargetStatus {
  /** The target group's ARN. */
  readonly targetGroupArn: string;
  /** Instance id or IP address. */
  readonly id: string;
  /** Port. */
  readonly port: number | undefined;
  /** Its state now. */
  readonly state: ModelStateName;
  /** Its reason code now, if the state has one. */
  readonly reason?: ModelReasonName;
}

/** The model as `GET|POST /shim/target-model` report it. */
export interface TargetModelStatus {
  /** Whether the shim rewrites ELBv2 target calls. */
  readonly enabled: boolean;
  /** The configured time to `healthy`, or `null` for the group-derived default. */
  readonly healthyAfterSeconds: number | null;
  /** The virtual clock. */
  readonly nowMs: number;
  /** Every target the model tracks (registered or draining), in the order it first saw them. */
  readonly targets: readonly ModelTargetStatus[];
}

/** Raised for a control request the model refuses; `status` is the HTTP status the shim answers with. */
export class TargetModelError extends Error {
  /** Creates the error with the HTTP status to answer. */
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'TargetModelError';
  }
}

/** What the model remembers about one (group, id, port). */
interface Tracked {
  readonly targetGroupArn: string;
  readonly id: string;
  readonly port: number | undefined;
  /** `undefined`: registered before the model saw it (listed by moto), so long past its health checks. */
  readonly registeredAtMs: number | undefined;
  readonly healthyAfterSeconds: number;
  readonly forced?: 'healthy' | 'unhealthy';
  /** Set once deregistered: when draining ends and the target is gone. */
  readonly drainedAtMs?: number;
}

interface Health {
  readonly state: ModelStateName;
  readonly reason?: ModelReasonName;
}

/**
 * The target-state model: a virtual clock and the targets registered or deregistered through the shim
 * while the model was on. One instance lives in each shim.
 * @example
 * const model = new TargetModel();
 * model.configure({ enabled: true, healthyAfterSeconds: 30 });
 * model.register(arn, [{ id: '10.0.0.4', port: 30080 }], facts, []);
 * model.advance(30);
 */
export class TargetModel {
  #enabled = false;
  #healthyAfterSeconds: number | undefined;
  #nowMs = 0;
  // Insertion-ordered, so targets moto forgot are appended to answers in a stable order.
  readonly #targets = new Map<string, Tracked>();

  /** Whether the shim should rewrite ELBv2 target calls. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Switches the model on (keeping what it tracks) or off (forgetting everything, clock back to 0). */
  configure(settings: TargetModelSettings): TargetModelStatus {
    if (!settings.enabled) {
      this.reset();
      return this.status();
    }
    if (settings.nowMs !== undefined) this.setNow(settings.nowMs);
    this.#enabled = true;
    this.#healthyAfterSeconds = settings.healthyAfterSeconds;
    return this.status();
  }

  /** Switches the model off and forgets its targets and clock, as after `POST /moto-api/reset`. */
  reset(): void {
    this.#enabled = false;
    this.#healthyAfterSeconds = undefined;
    this.#nowMs = 0;
    this.#targets.clear();
  }

  /** The model's settings, clock and targets. */
  status(): TargetModelStatus {
    this.#expire();
    return {
      enabled: this.#enabled,
      healthyAfterSeconds: this.#healthyAfterSeconds ?? null,
      nowMs: this.#nowMs,
      targets: [...this.#targets.values()].map((tracked) => {
        const health = this.#healthOf(tracked);
        return {
          targetGroupArn: tracked.targetGroupArn,
          id: tracked.id,
          port: tracked.port,
          state: health.state,
          ...(health.reason === undefined ? {} : { reason: health.reason }),
        };
      }),
    };
  }

  /** The virtual clock. */
  clock(): ClockReading {
    return { nowMs: this.#nowMs, nowSeconds: this.#nowMs / 1000 };
  }

  /** Moves the clock forward; the only way time passes for the model. */
  advance(seconds: number): ClockReading {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new TargetModelError(`advanceSeconds must be a number >= 0, got ${seconds}`, 400);
    }
    this.#nowMs += seconds * 1000;
    return this.clock();
  }

  /**
   * Sets the clock, e.g. to the product's injected clock in epoch milliseconds. Refuses to go back: a target
   * that finished draining is forgotten, so earlier instants could not be answered truthfully.
   */
  setNow(nowMs: number): ClockReading {
    if (!Number.isFinite(nowMs) || nowMs < this.#nowMs) {
      throw new TargetModelError(`nowMs must not go back: clock is ${this.#nowMs}, got ${nowMs}`, 400);
    }
    this.#nowMs = nowMs;
    return this.clock();
  }

  /**
   * Records a successful RegisterTargets: each new (id, port) starts `initial`; one already registered is
   * left as it is (AWS ignores a repeated registration); one draining starts `initial` again.
   * @param motoBefore what moto listed for the group before the call, see {@link TargetModel.adopt}.
   */
  register(
    targetGroupArn: string,
    targets: readonly TargetRef[],
    group: TargetGroupFacts,
    motoBefore: readonly TargetRef[],
  ): void {
    this.#expire();
    this.adopt(targetGroupArn, motoBefore, targets);
    const healthyAfterSeconds =
      this.#healthyAfterSeconds ?? group.healthCheckIntervalSeconds * group.healthyThresholdCount;
    for (const target of targets) {
      const key = keyOf(targetGroupArn, target);
      const known = this.#targets.get(key);
      if (known !== undefined && known.drainedAtMs === undefined) continue;
      // Delete first so a re-registered target moves to the end, like a new one.
      this.#targets.delete(key);
      this.#targets.set(key, {
        targetGroupArn,
        id: target.id,
        port: target.port,
        registeredAtMs: this.#nowMs,
        healthyAfterSeconds,
      });
    }
  }

  /**
   * Records a successful DeregisterTargets: each registered (id, port) drains for `delaySeconds` (the group's
   * `deregistration_delay.timeout_seconds`), then is gone. A draining or unknown target is left alone.
   * @param motoBefore what moto listed for the group before the call, see {@link TargetModel.adopt}.
   */
  deregister(
    targetGroupArn: string,
    targets: readonly TargetRef[],
    delaySeconds: number,
    motoBefore: readonly TargetRef[],
  ): void {
    this.#expire();
    this.adopt(targetGroupArn, motoBefore, targets);
    for (const target of targets) {
      const key = keyOf(targetGroupArn, target);
      const known = this.#targets.get(key);
      if (known === undefined || known.drainedAtMs !== undefined) continue;
      const { forced: _forced, ...rest } = known;
      this.#targets.set(key, { ...rest, drainedAtMs: this.#nowMs + delaySeconds * 1000 });
    }
    this.#expire();
  }

  /**
   * Takes over targets moto listed before a register/deregister call that names the same ids, as registered
   * long ago (healthy). moto keys targets by id alone, so the call may drop them (a second port replaces the
   * first; deregistering one port removes all); AWS keeps each (id, port), and so does the model.
   */
  adopt(targetGroupArn: string, motoBefore: readonly TargetRef[], touched: readonly TargetRef[]): void {
    const ids = new Set(touched.map((target) => target.id));
    for (const listed of motoBefore) {
      const key = keyOf(targetGroupArn, listed);
      if (!ids.has(listed.id) || this.#targets.has(key)) continue;
      this.#targets.set(key, {
        targetGroupArn,
        id: listed.id,
        port: listed.port,
        registeredAtMs: undefined,
        healthyAfterSeconds: 0,
      });
    }
  }

  /** Forgets a deleted target group's targets. */
  forgetGroup(targetGroupArn: string): void {
    for (const [key, tracked] of this.#targets) {
      if (tracked.targetGroupArn === targetGroupArn) this.#targets.delete(key);
    }
  }

  /**
   * Forces a registered target's health: `unhealthy` stays until set back, `healthy` also ends `initial`.
   * @throws TargetModelError (404) when the model does not track the target as registered.
   */
  forceHealth(override: TargetHealthOverride): ModelTargetStatus {
    this.#expire();
    const key = keyOf(override.targetGroupArn, override);
    const known = this.#targets.get(key);
    if (known === undefined || known.drainedAtMs !== undefined) {
      throw new TargetModelError(
        `${override.id}:${override.port} is not registered in ${override.targetGroupArn} as far as the ` +
          'target model knows (register it through the shim while the model is on)',
        404,
      );
    }
    this.#targets.set(key, { ...known, forced: override.state });
    const health = this.#healthOf({ ...known, forced: override.state });
    return {
      targetGroupArn: known.targetGroupArn,
      id: known.id,
      port: known.port,
      state: health.state,
      ...(health.reason === undefined ? {} : { reason: health.reason }),
    };
  }

  /**
   * Rewrites moto's DescribeTargetHealth answer for one group. Without `requested`: moto's members in its
   * order, tracked ones with the model's health, then tracked targets moto forgot (draining ones, and ports
   * moto's id-keying dropped). With `requested` (the call named `Targets`): exactly one member per named
   * target, in that order; a target neither tracked nor registered in moto is `unused`, as in AWS.
   * Targets the model never saw registered keep moto's answer.
   * @param groupHealthCheckPort `HealthCheckPort` for members moto did not list.
   */
  describe(
    targetGroupArn: string,
    motoAnswer: readonly TargetHealthEntry[],
    requested: readonly TargetRef[] | undefined,
    groupHealthCheckPort: string | undefined,
  ): TargetHealthEntry[] {
    this.#expire();
    const withHealth = (tracked: Tracked, listed: TargetHealthEntry | undefined): TargetHealthEntry => {
      const health = this.#healthOf(tracked);
      const healthCheckPort = listed?.healthCheckPort ?? groupHealthCheckPort;
      return {
        id: tracked.id,
        port: tracked.port,
        ...(listed?.availabilityZone === undefined ? {} : { availabilityZone: listed.availabilityZone }),
        ...(healthCheckPort === undefined ? {} : { healthCheckPort }),
        ...describeHealth(health),
      };
    };
    // moto answers a named target by id alone, with the port it holds; only an exact (id, port) counts.
    const listedExactly = (target: TargetRef): TargetHealthEntry | undefined =>
      motoAnswer.find(
        (entry) =>
          entry.id === target.id && entry.port === target.port && entry.reason !== ModelReason.notRegistered,
      );

    if (requested !== undefined) {
      return requested.map((target) => {
        const tracked = this.#targets.get(keyOf(targetGroupArn, target));
        const listed = listedExactly(target);
        if (tracked !== undefined) return withHealth(tracked, listed);
        if (listed !== undefined) return listed;
        return {
          id: target.id,
          port: target.port,
          ...(groupHealthCheckPort === undefined ? {} : { healthCheckPort: groupHealthCheckPort }),
          ...describeHealth({ state: ModelState.unused, reason: ModelReason.notRegistered }),
        };
      });
    }

    const answered = new Set<string>();
    const entries = motoAnswer.map((listed) => {
      const key = keyOf(targetGroupArn, listed);
      answered.add(key);
      const tracked = this.#targets.get(key);
      return tracked === undefined ? listed : withHealth(tracked, listed);
    });
    for (const [key, tracked] of this.#targets) {
      if (tracked.targetGroupArn === targetGroupArn && !answered.has(key)) {
        entries.push(withHealth(tracked, undefined));
      }
    }
    return entries;
  }

  #healthOf(tracked: Tracked): Health {
    if (tracked.drainedAtMs !== undefined) {
      return { state: ModelState.draining, reason: ModelReason.deregistrationInProgress };
    }
    if (tracked.forced === 'unhealthy') {
      return { state: ModelState.unhealthy, reason: ModelReason.failedHealthChecks };
    }
    if (tracked.forced === 'healthy' || tracked.registeredAtMs === undefined)
      return { state: ModelState.healthy };
    const elapsedMs = this.#nowMs - tracked.registeredAtMs;
    const healthyAfterMs = tracked.healthyAfterSeconds * 1000;
    if (elapsedMs >= healthyAfterMs) return { state: ModelState.healthy };
    // AWS reports registration first and initial health checks later; the model splits the wait in half.
    return {
      state: ModelState.initial,
      reason:
        elapsedMs < healthyAfterMs / 2
          ? ModelReason.registrationInProgress
          : ModelReason.initialHealthChecking,
    };
  }

  /** Forgets targets whose draining ended; the clock never goes back, so they cannot come back. */
  #expire(): void {
    for (const [key, tracked] of this.#targets) {
      if (tracked.drainedAtMs !== undefined && this.#nowMs >= tracked.drainedAtMs) this.#targets.delete(key);
    }
  }
}

function keyOf(targetGroupArn: string, target: TargetRef): string {
  return `${targetGroupArn} ${target.id} ${target.port ?? ''}`;
}

function describeHealth(health: Health): Pick<TargetHealthEntry, 'state' | 'reason' | 'description'> {
  return health.reason === undefined
    ? { state: health.state }
    : { state: health.state, reason: health.reason, description: REASON_DESCRIPTIONS[health.reason] };
}

// ---- awsQuery requests and XML answers -------------------------------------------------------------------

/**
 * The `Targets.member.N` of an awsQuery request, ordered by N, or `undefined` when the request names none.
 * A target without `Port` gets the group's port, as AWS registers it on that port.
 */
export function targetsFromParams(
  params: URLSearchParams,
  defaultPort: number | undefined,
): TargetRef[] | undefined {
  const byIndex = new Map<number, { id?: string; port?: string }>();
  for (const [name, value] of params) {
    const match = /^Targets\.member\.(\d+)\.(Id|Port)$/.exec(name);
    if (match === null) continue;
    const index = Number(match[1]);
    const member = byIndex.get(index) ?? {};
    if (match[2] === 'Id') member.id = value;
    else member.port = value;
    byIndex.set(index, member);
  }
  if (byIndex.size === 0) return undefined;
  return [...byIndex.entries()]
    .sort(([a], [b]) => a - b)
    .flatMap(([, member]) =>
      member.id === undefined
        ? []
        : [{ id: member.id, port: member.port === undefined ? defaultPort : Number(member.port) }],
    );
}

const DESCRIPTIONS_BLOCK =
  /<TargetHealthDescriptions\s*\/>|<TargetHealthDescriptions>([\s\S]*?)<\/TargetHealthDescriptions>/;

/**
 * The members of a DescribeTargetHealth answer (moto's XML), or `undefined` when it has no
 * `TargetHealthDescriptions` (an error answer).
 */
export function parseTargetHealthXml(xml: string): TargetHealthEntry[] | undefined {
  const block = DESCRIPTIONS_BLOCK.exec(xml);
  if (block === null) return undefined;
  // Members hold no nested members (Target, HealthCheckPort, TargetHealth), so a lazy match is exact.
  return [...(block[1] ?? '').matchAll(/<member>([\s\S]*?)<\/member>/g)].map(([, member = '']) => {
    const target = element(member, 'Target') ?? '';
    const health = element(member, 'TargetHealth') ?? '';
    const port = element(target, 'Port');
    const availabilityZone = element(target, 'AvailabilityZone');
    const healthCheckPort = element(member, 'HealthCheckPort');
    const reason = element(health, 'Reason');
    const description = element(health, 'Description');
    return {
      id: element(target, 'Id') ?? '',
      port: port === undefined ? undefined : Number(port),
      ...(availabilityZone === undefined ? {} : { availabilityZone }),
      ...(healthCheckPort === undefined ? {} : { healthCheckPort }),
      state: element(health, 'State') ?? '',
      ...(reason === undefined ? {} : { reason }),
      ...(description === undefined ? {} : { description }),
    };
  });
}

/**
 * moto's DescribeTargetHealth answer with its members replaced, everything else (envelope, request id) kept,
 * so the SDK sees moto's shape with the model's states.
 */
export function replaceTargetHealthXml(xml: string, entries: readonly TargetHealthEntry[]): string {
  const members = entries.map(renderMember).join('');
  const block =
    members === ''
      ? '<TargetHealthDescriptions/>'
      : `<TargetHealthDescriptions>${members}</TargetHealthDescriptions>`;
  return xml.replace(DESCRIPTIONS_BLOCK, () => block);
}

function renderMember(entry: TargetHealthEntry): string {
  return (
    '<member><Target>' +
    `<Id>${escapeXml(entry.id)}</Id>` +
    (entry.port === undefined ? '' : `<Port>${entry.port}</Port>`) +
    (entry.availabilityZone === undefined
      ? ''
      : `<AvailabilityZone>${escapeXml(entry.availabilityZone)}</AvailabilityZone>`) +
    '</Target>' +
    (entry.healthCheckPort === undefined
      ? ''
      : `<HealthCheckPort>${escapeXml(entry.healthCheckPort)}</HealthCheckPort>`) +
    `<TargetHealth><State>${escapeXml(entry.state)}</State>` +
    (entry.reason === undefined ? '' : `<Reason>${escapeXml(entry.reason)}</Reason>`) +
    (entry.description === undefined ? '' : `<Description>${escapeXml(entry.description)}</Description>`) +
    '</TargetHealth></member>'
  );
}

/** The facts of the first target group in a DescribeTargetGroups answer, or `undefined` if it lists none. */
export function parseTargetGroupXml(xml: string): TargetGroupFacts | undefined {
  const group = /<TargetGroups>\s*<member>([\s\S]*)<\/member>\s*<\/TargetGroups>/.exec(xml)?.[1];
  if (group === undefined) return undefined;
  const number = (name: string): number | undefined => {
    const text = element(group, name);
    return text === undefined ? undefined : Number(text);
  };
  return {
    port: number('Port'),
    healthCheckPort: element(group, 'HealthCheckPort'),
    // A group always has both in AWS and moto; the defaults only keep a surprising answer from crashing.
    healthCheckIntervalSeconds: number('HealthCheckIntervalSeconds') ?? DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS,
    healthyThresholdCount: number('HealthyThresholdCount') ?? DEFAULT_HEALTHY_THRESHOLD_COUNT,
  };
}

/** `deregistration_delay.timeout_seconds` from a DescribeTargetGroupAttributes answer; 300 when absent. */
export function parseDeregistrationDelayXml(xml: string): number {
  const value = /<Key>\s*deregistration_delay\.timeout_seconds\s*<\/Key>\s*<Value>\s*(\d+)\s*<\/Value>/.exec(
    xml,
  )?.[1];
  return value === undefined ? DEFAULT_DEREGISTRATION_DELAY_SECONDS : Number(value);
}

/** The text of the first `<name>` element in `xml` (unescaped), or `undefined`. */
function element(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return match?.[1] === undefined ? undefined : unescapeXml(match[1]);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

// ---- control request bodies ------------------------------------------------------------------------------

const settingsSchema = z.strictObject({
  enabled: z.boolean(),
  healthyAfterSeconds: z.number().nonnegative().optional(),
  nowMs: z.number().nonnegative().optional(),
});
const clockChangeSchema = z.union([
  z.strictObject({ advanceSeconds: z.number().nonnegative() }),
  z.strictObject({ nowMs: z.number().nonnegative() }),
]);
const overrideSchema = z.strictObject({
  targetGroupArn: z.string().min(1),
  id: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  state: z.enum(['healthy', 'unhealthy']),
});

/**
 * Validates a control request's JSON body.
 * @throws TargetModelError (400) naming what is wrong.
 */
export function parseControlBody(path: typeof TARGET_MODEL_PATH, text: string): TargetModelSettings;
export function parseControlBody(path: typeof CLOCK_PATH, text: string): ClockChange;
export function parseControlBody(path: typeof TARGET_HEALTH_PATH, text: string): TargetHealthOverride;
export function parseControlBody(
  path: ControlPath,
  text: string,
): TargetModelSettings | ClockChange | TargetHealthOverride;
export function parseControlBody(
  path: ControlPath,
  text: string,
): TargetModelSettings | ClockChange | TargetHealthOverride {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TargetModelError(`${path}: body is not JSON`, 400);
  }
  const schema =
    path === TARGET_MODEL_PATH ? settingsSchema : path === CLOCK_PATH ? clockChangeSchema : overrideSchema;
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new TargetModelError(`${path}: ${z.prettifyError(parsed.error)}`, 400);
  return parsed.data;
}
