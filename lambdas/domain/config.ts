import * as z from 'zod/mini';
import { canonicalCidr, ipv4CoverageShare, isCanonicalCidr, parseIpv4, parseIpv4Cidr } from './ip-addresses';
import { scheduleExpressionProblem } from './schedule-expression';
import './zod-english';

/**
 * The sync configuration: which clusters exist, where their nodes come from, which target groups
 * carry which NodePort, and the safety settings. Validated at synth time (bin/app.ts), at Lambda
 * start and by the CLI, always through {@link parseSyncConfig}, so every error names its field.
 */

const ARN_TG =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]+\/[0-9a-f]+$/;
const ARN_LB =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/(net|app)\/[A-Za-z0-9-]+\/[0-9a-f]+$/;
/** An EC2 instance id: `i-` and 8 (older) to 17 hex digits. No wildcards. */
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
/** A DNS name: labels of letters, digits, `-` and `_`, an optional final dot. */
const DNS_NAME =
  /^(?=.{1,254}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$/;
/** A preserved CIDR may cover at most a /8: anything wider would silently freeze most of a VPC, or all of it. */
const PRESERVED_MIN_PREFIX = 8;
/**
 * EventBridge rule names and the lane's queue policy use only the first 20 characters of ownerId
 * (infra/naming.ts `ruleNamePrefix`), so a longer id could collide with another deployment's.
 */
export const OWNER_ID_MAX_LENGTH = 20;
/** Default share of the IPv4 space client CIDRs may cover without allowAnywhere: 1/16, a /4. */
export const DEFAULT_MAX_CLIENT_SHARE = 1 / 16;

/** Why a CIDR is not canonical (host bits set), or undefined. The text must parse as a CIDR. */
function nonCanonicalProblem(text: string): string | undefined {
  const cidr = parseIpv4Cidr(text);
  if (cidr === undefined || isCanonicalCidr(cidr)) return undefined;
  return `${text} is not canonical: its address has host bits set (the range is ${canonicalCidr(cidr)})`;
}

/** An IPv4 CIDR written canonically (`10.0.0.0/8`, never `10.0.0.1/8`). */
const cidrSchema = z.string().check(
  z.refine((text) => parseIpv4Cidr(text) !== undefined, 'must be an IPv4 CIDR'),
  z.superRefine((text, ctx) => {
    const problem = nonCanonicalProblem(text);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
);

/**
 * A preserved target: an exact instance id or IPv4 address (never touched), or an IPv4 CIDR up to a /8
 * (no IP inside it is touched). Wildcards are refused: they would silently mean nothing.
 */
const preservedTargetSchema = z.string().check(
  z.minLength(1),
  z.superRefine((entry, ctx) => {
    const fail = (message: string) => ctx.addIssue({ code: 'custom', message });
    if (entry.includes('/')) {
      const cidr = parseIpv4Cidr(entry);
      if (cidr === undefined) return fail('is not an IPv4 CIDR (a.b.c.d/n)');
      const problem = nonCanonicalProblem(entry);
      if (problem !== undefined) return fail(problem);
      if (cidr.prefix < PRESERVED_MIN_PREFIX) {
        return fail(`${entry} covers more than a /${PRESERVED_MIN_PREFIX}; preserve narrower ranges`);
      }
      return;
    }
    if (INSTANCE_ID.test(entry) || parseIpv4(entry) !== undefined) return;
    const wildcard = /[*?]/.test(entry) ? '; wildcards are not supported' : '';
    fail(
      `"${entry}" is not an instance id (i- and 8 to 17 hex digits), an IPv4 address or an IPv4 CIDR${wildcard}`,
    );
  }),
);

/** A non-empty string (`z.string().min(1)` in zod's classic API). */
const nonEmpty = () => z.string().check(z.minLength(1));

/** A string matching `pattern`, with `message` (zod's own when absent) when it does not. */
const matching = (pattern: RegExp, message?: string) => z.string().check(z.regex(pattern, message));

/** An integer from `min` to `max` (`z.number().int().min(min).max(max)` in zod's classic API). */
const integer = (min: number, max: number) => z.number().check(z.int(), z.gte(min), z.lte(max));

/** A port a Kubernetes NodePort service may use (the default range is 30000-32767; clusters may widen it). */
const nodePortSchema = integer(1, 65535);

/** Target types this product manages: `ip` registers the node's private IP, `instance` its instance id. */
export const TARGET_TYPES = ['ip', 'instance'] as const;

/** One listener port -> one target group -> one NodePort (+ optional health-check NodePort). */
export const portMappingSchema = z.strictObject({
  /** Short name, used in logs, metrics, SRV records and created resources. */
  name: matching(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, 'must be a DNS label: a-z, 0-9 and -'),
  /** ARN of the target group. In create mode (`loadBalancer.create`), a placeholder is not allowed: omit it. */
  targetGroupArn: z.optional(matching(ARN_TG, 'must be a target group ARN')),
  targetType: z._default(z.enum(TARGET_TYPES), 'ip'),
  nodePort: nodePortSchema,
  healthCheckNodePort: z.optional(nodePortSchema),
  /** Listener port on the NLB; used when the stack creates the NLB. */
  listenerPort: z.optional(integer(1, 65535)),
  protocol: z._default(z.enum(['TCP', 'UDP', 'TCP_UDP', 'TLS']), 'TCP'),
  /** Whether the target group preserves the client IP (instance targets do by default). */
  preserveClientIp: z.optional(z.boolean()),
});

/** Where a cluster's nodes come from: ASG names and/or EC2 tag filters (at least one). */
export const nodeSourceSchema = z
  .strictObject({
    autoScalingGroups: z._default(z.array(nonEmpty()), []),
    /** EC2 tag filters, `{ "karpenter.sh/nodepool": ["default"] }`; every key must match one of its values. */
    tagFilters: z._default(z.record(nonEmpty(), z.array(nonEmpty()).check(z.minLength(1))), {}),
  })
  .check(
    z.refine((s) => s.autoScalingGroups.length > 0 || Object.keys(s.tagFilters).length > 0, {
      message: 'needs at least one of autoScalingGroups or tagFilters',
    }),
  );

/** Safety settings; see docs/safety.md. */
export const safetySchema = z.strictObject({
  /** The share of a group's healthy targets one pass may deregister for nodes that vanished (0-1). */
  maxDeregisterShare: z._default(z.number().check(z.gte(0), z.lte(1)), 0.5),
});

/** Node security-group ingress management (issue 4). */
export const securityGroupsSchema = z
  .strictObject({
    enabled: z._default(z.boolean(), true),
    /** Explicit node security groups; when absent they are discovered from the nodes' primary interfaces. */
    groupIds: z.optional(z.array(matching(/^sg-[0-9a-f]+$/))),
    /** Where health checks and traffic come from when the NLB has no security group. */
    source: z._default(
      z.enum(['auto', 'load-balancer-security-group', 'load-balancer-ips', 'vpc-cidr']),
      'auto',
    ),
    /** Client CIDRs allowed on traffic NodePorts of groups that preserve the client IP (canonical). */
    clientCidrs: z._default(z.array(cidrSchema), []),
    /** Must be true for clientCidrs that together cover more than maxClientShare of the IPv4 space. */
    allowAnywhere: z._default(z.boolean(), false),
    /**
     * The share of the IPv4 space (0-1) clientCidrs may cover together without allowAnywhere; default
     * {@link DEFAULT_MAX_CLIENT_SHARE} (optional in the output so that hand-built configs stay valid).
     */
    maxClientShare: z.optional(z.number().check(z.gt(0), z.lte(1))),
    /**
     * The account's quota of inbound rules per security group (Service Quotas L-0EA8095F), when it was
     * raised; the default is AWS's 60. A plan that would pass it is refused before any write.
     */
    inboundRuleQuota: z.optional(integer(1, 1000)),
  })
  .check(
    z.superRefine((sg, ctx) => {
      if (sg.allowAnywhere || sg.clientCidrs.length === 0) return;
      // Real prefix arithmetic: 0.0.0.0/1 + 128.0.0.0/1 is everywhere too; overlaps count once.
      const share = ipv4CoverageShare(sg.clientCidrs.flatMap((text) => parseIpv4Cidr(text) ?? []));
      const maxShare = sg.maxClientShare ?? DEFAULT_MAX_CLIENT_SHARE;
      if (share <= maxShare) return;
      const one = sg.clientCidrs.length === 1;
      ctx.addIssue({
        code: 'custom',
        path: ['clientCidrs'],
        message:
          `${sg.clientCidrs.join(' + ')} ${one ? 'needs' : 'need'} allowAnywhere: true: ${one ? 'it covers' : 'together they cover'} ` +
          `${percent(share)} of the IPv4 space, more than securityGroups.maxClientShare (${percent(maxShare)})`,
      });
    }),
  );

function percent(share: number): string {
  return `${Number((share * 100).toPrecision(4))}%`;
}

/** A DNS name compared as Route 53 does: case-insensitive, final dot optional. */
function dnsKey(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Route 53 records kept for a cluster (issue 4). */
export const dnsSchema = z
  .strictObject({
    hostedZoneId: matching(/^[A-Z0-9]{1,32}$/, 'must be a hosted zone id'),
    /** The hosted zone's name; when set, every record name must be inside it (checked at load). */
    zoneName: z.optional(matching(DNS_NAME, 'must be a DNS name, like example.com')),
    /** Names that get A (and AAAA when dualstack) alias records to the NLB. */
    aliasNames: z._default(z.array(nonEmpty()), []),
    /** Name whose A record lists the desired nodes' private IPs. */
    nodeRecordName: z.optional(nonEmpty()),
    /** Publish `_<mapping>._tcp.<srvDomain>` SRV records pointing at each NodePort. */
    srvDomain: z.optional(nonEmpty()),
    /**
     * Names no longer configured whose owned records (and marker) the product may still delete. The role may
     * change only configured and retired names (docs/iam.md): an owned name left out of both stays in place.
     */
    retiredNames: z._default(z.array(nonEmpty()), []),
    ttl: z._default(integer(0, 172800), 60),
  })
  .check(
    z.superRefine((dns, ctx) => {
      const aliases = new Map<string, number>();
      dns.aliasNames.forEach((name, i) => {
        const first = aliases.get(dnsKey(name));
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['aliasNames', i],
            message: `duplicate alias name "${name}" (same as aliasNames.${first})`,
          });
        } else aliases.set(dnsKey(name), i);
      });
      if (dns.nodeRecordName !== undefined && aliases.has(dnsKey(dns.nodeRecordName))) {
        ctx.addIssue({
          code: 'custom',
          path: ['nodeRecordName'],
          message: `"${dns.nodeRecordName}" is also an alias name; a name holds either the alias or the node IPs`,
        });
      }
      if (dns.zoneName === undefined) return;
      const zone = dnsKey(dns.zoneName);
      const named: [(string | number)[], string][] = [
        ...dns.aliasNames.map((name, i): [(string | number)[], string] => [['aliasNames', i], name]),
        ...(dns.nodeRecordName === undefined
          ? []
          : [[['nodeRecordName'], dns.nodeRecordName] as [string[], string]]),
        ...(dns.srvDomain === undefined ? [] : [[['srvDomain'], dns.srvDomain] as [string[], string]]),
      ];
      for (const [path, name] of named) {
        const key = dnsKey(name);
        if (key === zone || key.endsWith(`.${zone}`)) continue;
        ctx.addIssue({
          code: 'custom',
          path,
          message: `"${name}" is not inside the hosted zone ${zone} (dns.zoneName)`,
        });
      }
    }),
  );

/** The answers Auto Scaling accepts for a lifecycle action. */
export const LIFECYCLE_RESULTS = ['CONTINUE', 'ABANDON'] as const;

/** When a launching node's lifecycle action is answered (docs/lifecycle.md). */
export const LAUNCH_GATES = ['healthy', 'registered', 'none'] as const;

/** When a launching node's lifecycle action is answered. */
export type LaunchGate = (typeof LAUNCH_GATES)[number];

/** Auto Scaling accepts heartbeat timeouts of 30-7200 seconds. */
const heartbeatTimeoutSchema = integer(30, 7200);

/**
 * How lifecycle actions of a cluster's ASGs are held and answered (docs/lifecycle.md). Waiting is a
 * delayed re-check (an SQS message with DelaySeconds), never a Lambda sleeping.
 */
export const lifecycleSchema = z.strictObject({
  /**
   * `healthy`: answer a launch once the node's targets are healthy in every group; `registered`: once
   * they are registered; `none`: at once, before the pass.
   */
  launchGate: z._default(z.enum(LAUNCH_GATES), 'healthy'),
  /** How long a launch is held for health before `launchTimeoutResult` is sent. */
  launchTimeoutSeconds: z._default(integer(30, 7200), 600),
  /** The answer when a launch times out: CONTINUE lets it into service anyway, ABANDON replaces it. */
  launchTimeoutResult: z._default(z.enum(LIFECYCLE_RESULTS), 'CONTINUE'),
  /** The launch hook's heartbeat timeout (what Auto Scaling waits for an answer or a heartbeat). */
  launchHeartbeatTimeoutSeconds: z._default(heartbeatTimeoutSchema, 300),
  /**
   * The terminate hook's heartbeat timeout. Default: the created groups' deregistration delay + 60 s,
   * else 360 s. Heartbeats keep a longer drain alive; this only bounds the wait when nobody answers.
   */
  terminateHeartbeatTimeoutSeconds: z.optional(heartbeatTimeoutSchema),
  /**
   * The terminate hook's default result, also sent when draining outlasts its bound. With an instance
   * lifecycle policy that retains instances, ABANDON keeps the instance (docs/lifecycle.md).
   */
  terminateTimeoutResult: z._default(z.enum(LIFECYCLE_RESULTS), 'CONTINUE'),
  /** Added to the largest deregistration delay before a terminate stops waiting for draining. */
  drainMarginSeconds: z._default(integer(0, 600), 30),
  /** How long a held action waits between re-checks (SQS DelaySeconds allows 0-900). */
  recheckSeconds: z._default(integer(5, 900), 15),
});

/** The load balancer: imported by ARN (default) or created by the stack (issue 3). */
export const loadBalancerSchema = z.strictObject({
  arn: z.optional(matching(ARN_LB, 'must be a load balancer ARN')),
  /** When set, the CDK stack creates the NLB and the target groups from the port mappings. */
  create: z.optional(
    z.strictObject({
      vpcId: matching(/^vpc-[0-9a-f]+$/),
      subnetIds: z.array(matching(/^subnet-[0-9a-f]+$/)).check(z.minLength(1)),
      internetFacing: z._default(z.boolean(), false),
      crossZone: z._default(z.boolean(), true),
      securityGroupIds: z._default(z.array(matching(/^sg-[0-9a-f]+$/)), []),
      deletionProtection: z._default(z.boolean(), true),
      accessLogsBucket: z.optional(z.string().check(z.minLength(3))),
      deregistrationDelaySeconds: z._default(integer(0, 3600), 300),
    }),
  ),
});

/** One cluster: a set of worker nodes bound to one NLB. */
export const clusterSchema = z.strictObject({
  name: matching(/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/, 'must be lowercase a-z, 0-9 and -'),
  nodeSource: nodeSourceSchema,
  loadBalancer: z._default(loadBalancerSchema, {}),
  portMappings: z.array(portMappingSchema).check(z.minLength(1)),
  /** Target ids (instance ids or IPs) or IPv4 CIDRs this product never registers or deregisters. */
  preservedTargets: z._default(z.array(preservedTargetSchema), []),
  safety: z.optional(safetySchema),
  securityGroups: z.optional(securityGroupsSchema),
  dns: z.optional(dnsSchema),
  /** Lifecycle actions: launch gate, timeouts and results (docs/lifecycle.md). */
  lifecycle: z.prefault(lifecycleSchema, {}),
});

/** The whole configuration file. */
export const syncConfigSchema = z
  .strictObject({
    /** Marks what this deployment owns (rule descriptions, TXT records). */
    ownerId: z._default(
      z.string().check(
        z.regex(/^[A-Za-z0-9-]+$/, 'must be letters, digits and -'),
        z.superRefine((id, ctx) => {
          if (id.length <= OWNER_ID_MAX_LENGTH) return;
          ctx.addIssue({
            code: 'custom',
            message:
              `is ${id.length} characters, at most ${OWNER_ID_MAX_LENGTH}: EventBridge rule names and the queue policy use only ` +
              `its first ${OWNER_ID_MAX_LENGTH} (infra/naming.ts ruleNamePrefix), so two deployments whose owner ids share them would share a lane`,
          });
        }),
      ),
      'nlb-nodeport-sync',
    ),
    clusters: z.array(clusterSchema).check(z.minLength(1)),
    /** Preserved targets shared by every cluster. */
    preservedTargets: z._default(z.array(preservedTargetSchema), []),
    safety: z._default(safetySchema, { maxDeregisterShare: 0.5 }),
    /** Full reconcile schedule, as an EventBridge rate() or cron() expression. */
    schedule: z._default(
      z.string().check(
        z.superRefine((expression, ctx) => {
          const problem = scheduleExpressionProblem(expression);
          if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
        }),
      ),
      'rate(5 minutes)',
    ),
    /** Also react to EC2 rebalance recommendations (spot). */
    rebalanceRecommendations: z._default(z.boolean(), false),
    /** Email addresses subscribed to the alarm topic. */
    alarmEmails: z._default(z.array(z.string().check(z.email())), []),
  })
  .check(
    z.superRefine((config, ctx) => {
      const clusterByGroup = new Map<string, string>();
      const clusterByAsg = new Map<string, string>();
      const clusterNames = new Set<string>();
      config.clusters.forEach((cluster, ci) => {
        cluster.nodeSource.autoScalingGroups.forEach((asg, ai) => {
          const owner = clusterByAsg.get(asg);
          // A lifecycle action must be answered by exactly one cluster's pass.
          if (owner !== undefined && owner !== cluster.name) {
            ctx.addIssue({
              code: 'custom',
              path: ['clusters', ci, 'nodeSource', 'autoScalingGroups', ai],
              message: `Auto Scaling group "${asg}" is already in cluster "${owner}"; an ASG may belong to one cluster only`,
            });
          }
          clusterByAsg.set(asg, cluster.name);
        });
        if (clusterNames.has(cluster.name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['clusters', ci, 'name'],
            message: `duplicate cluster name "${cluster.name}"`,
          });
        }
        clusterNames.add(cluster.name);
        const creates = cluster.loadBalancer.create !== undefined;
        const names = new Set<string>();
        const mappingByGroup = new Map<string, string>();
        cluster.portMappings.forEach((mapping, mi) => {
          const path = ['clusters', ci, 'portMappings', mi];
          if (names.has(mapping.name)) {
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'name'],
              message: `duplicate port mapping name "${mapping.name}"`,
            });
          }
          names.add(mapping.name);
          if (!creates && mapping.targetGroupArn === undefined) {
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'targetGroupArn'],
              message: 'is required unless loadBalancer.create is set',
            });
          }
          if (creates && mapping.listenerPort === undefined) {
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'listenerPort'],
              message: 'is required when loadBalancer.create is set',
            });
          }
          if (mapping.targetGroupArn === undefined) return;
          const sibling = mappingByGroup.get(mapping.targetGroupArn);
          if (sibling !== undefined) {
            // Each pass would move every target to the other mapping's port: zero healthy targets.
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'targetGroupArn'],
              message: `target group is already used by port mapping "${sibling}" of this cluster; a target group serves one NodePort, one mapping`,
            });
            return;
          }
          mappingByGroup.set(mapping.targetGroupArn, mapping.name);
          const owner = clusterByGroup.get(mapping.targetGroupArn);
          if (owner !== undefined && owner !== cluster.name) {
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'targetGroupArn'],
              message: `target group is already claimed by cluster "${owner}"; a target group may belong to one cluster only`,
            });
          }
          clusterByGroup.set(mapping.targetGroupArn, cluster.name);
        });
        // Rule sources and alias targets are read from the NLB: catch a missing one at synth, not mid-pass.
        const knowsLoadBalancer = cluster.loadBalancer.arn !== undefined || creates;
        if (!knowsLoadBalancer && cluster.securityGroups !== undefined && cluster.securityGroups.enabled) {
          ctx.addIssue({
            code: 'custom',
            path: ['clusters', ci, 'loadBalancer', 'arn'],
            message: 'is required when securityGroups is set (the rules admit the NLB)',
          });
        }
        if (!knowsLoadBalancer && (cluster.dns?.aliasNames.length ?? 0) > 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['clusters', ci, 'loadBalancer', 'arn'],
            message: 'is required when dns.aliasNames is set (the aliases point at the NLB)',
          });
        }
        if (cluster.dns?.srvDomain !== undefined && cluster.dns.nodeRecordName === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['clusters', ci, 'dns', 'nodeRecordName'],
            message: 'is required when srvDomain is set: SRV records point at it',
          });
        }
      });
    }),
  );

/** A validated sync configuration. */
export type SyncConfig = z.output<typeof syncConfigSchema>;
/** A validated cluster. */
export type ClusterConfig = z.output<typeof clusterSchema>;
/** A validated port mapping. */
export type PortMapping = z.output<typeof portMappingSchema>;
/** Resolved lifecycle settings of a cluster. */
export type LifecycleConfig = z.output<typeof lifecycleSchema>;
/** Resolved safety settings. */
export type SafetyConfig = z.output<typeof safetySchema>;

/** The configuration is invalid; the message names every failing field. */
export class ConfigError extends Error {
  /** One entry per failing field, `path: message`. */
  public readonly issues: string[];
  public constructor(source: string, issues: string[]) {
    super(`Invalid sync configuration (${source}):\n  - ${issues.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * Validates raw JSON against the schema.
 * @param raw - parsed JSON
 * @param source - where it came from, for the error message (a path or an environment variable)
 * @throws ConfigError naming every failing field, e.g. `clusters.0.portMappings.1.nodePort: ...`
 * @example parseSyncConfig(JSON.parse(text), 'examples/sync.config.json')
 */
export function parseSyncConfig(raw: unknown, source = 'config'): SyncConfig {
  const result = syncConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(
    source,
    result.error.issues.flatMap((issue) => {
      if (issue.code !== 'unrecognized_keys') {
        return [`${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`];
      }
      // One line per unknown key, with the key in the path and the nearest known name.
      const known = knownKeysAt(syncConfigSchema, issue.path);
      return issue.keys.map((key) => `${[...issue.path, key].join('.')}: ${unknownKeyMessage(key, known)}`);
    }),
  );
}

/** What a schema's definition exposes for walking it; zod 4 keeps it in `_zod.def`. */
interface WalkableDef {
  readonly type: string;
  readonly shape?: Record<string, unknown>;
  readonly element?: unknown;
  readonly innerType?: unknown;
  readonly in?: unknown;
  readonly valueType?: unknown;
}

function defOf(schema: unknown): WalkableDef {
  return (schema as { _zod: { def: WalkableDef } })._zod.def;
}

/** Looks through optional, default, prefault and pipe wrappers to the schema that parses the value. */
function unwrapSchema(schema: unknown): unknown {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (def.type === 'pipe' && def.in !== undefined) current = def.in;
    else if (def.innerType !== undefined) current = def.innerType;
    else return current;
  }
}

/** The keys of the object schema at a path of the input (array indexes and record keys included). */
function knownKeysAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  let current: unknown = unwrapSchema(schema);
  for (const segment of path) {
    const def = defOf(current);
    const next =
      def.type === 'object'
        ? def.shape?.[String(segment)]
        : def.type === 'array'
          ? def.element
          : def.type === 'record'
            ? def.valueType
            : undefined;
    if (next === undefined) return [];
    current = unwrapSchema(next);
  }
  const def = defOf(current);
  return def.type === 'object' && def.shape !== undefined ? Object.keys(def.shape) : [];
}

/** `unknown key; did you mean "x"?` when a known key is near, else the list of known keys. */
function unknownKeyMessage(key: string, known: readonly string[]): string {
  let nearest: string | undefined;
  let best = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < best) {
      best = distance;
      nearest = candidate;
    }
  }
  if (nearest !== undefined && best <= Math.max(2, Math.floor(key.length / 3))) {
    return `unknown key; did you mean "${nearest}"?`;
  }
  return known.length > 0 ? `unknown key; known keys: ${known.join(', ')}` : 'unknown key';
}

/** Edit distance counting insertions, deletions, substitutions and swaps of neighbours as one each. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i += 1) {
    const row = rows[i] as number[];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, at(i - 2, j - 2) + 1);
      }
      row[j] = value;
    }
  }
  return at(a.length, b.length);
}

/**
 * Parses JSON text and validates it; a JSON syntax error is a ConfigError too.
 * @param text - the file or environment variable's content
 * @param source - where it came from
 */
export function parseSyncConfigText(text: string, source: string): SyncConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(source, [`(root): not valid JSON: ${(error as Error).message}`]);
  }
  return parseSyncConfig(raw, source);
}

/** The effective safety settings of a cluster (its own, else the deployment's). */
export function safetyOf(config: SyncConfig, cluster: ClusterConfig): SafetyConfig {
  return cluster.safety ?? config.safety;
}

/** Used when the terminate hook's timeout is neither configured nor derivable (default delay 300 s + 60 s). */
export const DEFAULT_TERMINATE_HEARTBEAT_TIMEOUT_SECONDS = 360;
/** Added to a created group's deregistration delay for the terminate hook's timeout. */
export const TERMINATE_HEARTBEAT_MARGIN_SECONDS = 60;

/**
 * The terminate hook's heartbeat timeout: configured, else the created groups' deregistration delay plus
 * a margin, else 360 s. The stack creates the hook with it and the pass heartbeats within it.
 */
export function terminateHeartbeatTimeoutOf(cluster: ClusterConfig): number {
  const configured = cluster.lifecycle.terminateHeartbeatTimeoutSeconds;
  if (configured !== undefined) return configured;
  const delay = cluster.loadBalancer.create?.deregistrationDelaySeconds;
  if (delay === undefined) return DEFAULT_TERMINATE_HEARTBEAT_TIMEOUT_SECONDS;
  // Auto Scaling accepts 30-7200 seconds.
  return Math.min(7200, Math.max(30, delay + TERMINATE_HEARTBEAT_MARGIN_SECONDS));
}

/** The preserved targets of a cluster: its own plus the deployment's. */
export function preservedTargetsOf(config: SyncConfig, cluster: ClusterConfig): string[] {
  return [...config.preservedTargets, ...cluster.preservedTargets];
}
