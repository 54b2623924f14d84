import type { ClusterConfig, SyncConfig } from '../domain/config';
import { ownershipMarker } from '../domain/dns-records';
import { chooseNodeGroups, describeRule, isOwnedRule, nodeGroupCandidates } from '../domain/ingress-rules';
import {
  type HoldDecision,
  type HoldGroupFacts,
  type HoldKind,
  judgeOpenWait,
} from '../domain/lifecycle-hold';
import { lifecycleHookName } from '../domain/lifecycle-hooks';
import type { DnsPort, RecordSet, SecurityGroupPort } from '../domain/network-ports';
import type { Node } from '../domain/node';
import type { AutoScalingPort, Ec2Port, TargetGroupPort } from '../domain/ports';
import type { ObservedTarget } from '../domain/target';
import type { GroupPlan } from '../domain/target-plan';

/**
 * What `status` shows besides the pass's plan: what this deployment owns right now (the node security
 * groups' owned rules, the hosted zone's managed records) and the lifecycle actions Auto Scaling holds.
 * Read only; every piece is read with the same ports a pass uses, and judged by the same domain rules
 * (ownership by rule description prefix and by TXT marker; the hold rules of lambdas/domain/lifecycle-hold.ts).
 */

/** The ports `status` reads owned rules and records through (the network steps' adapters). */
export interface InventoryPorts {
  readonly securityGroups: SecurityGroupPort;
  readonly dns: DnsPort;
}

/** An inbound rule this deployment owns for the cluster (its description starts with the owner prefix). */
export interface OwnedRuleView {
  readonly groupId: string;
  readonly ruleId: string;
  /** `tcp 30000-30001 from 10.0.0.0/16`. */
  readonly rule: string;
  readonly description: string;
}

/** A record set at a name this cluster manages (the name's TXT set holds the cluster's marker). */
export interface ManagedRecordView {
  readonly name: string;
  readonly type: string;
  readonly ttl?: number;
  readonly values: readonly string[];
  /** Alias records: the alias target's DNS name. */
  readonly alias?: string;
}

/** A lifecycle action Auto Scaling holds on a node of the cluster, and what it waits for now. */
export interface HeldActionView {
  readonly instanceId: string;
  readonly autoScalingGroup: string;
  readonly lifecycleState: string;
  readonly kind: HoldKind;
  /** The hook this deployment answers for this kind (another tool's hook on the ASG may hold it as well). */
  readonly hookName: string;
  /** `wait`: for health or draining; `pass`: for a pass to put the targets in place; `answer`: ready to answer. */
  readonly next: HoldDecision['kind'];
  /** In words, from the current targets, by the rules a re-check applies. */
  readonly waitsFor: string;
}

/**
 * The rules this deployment owns in the cluster's node security groups: the configured groups, else the
 * groups on the desired nodes' interfaces, chosen by the cluster tag as the pass chooses them.
 * Empty when the step is not configured or disabled.
 * @throws AmbiguousSecurityGroupError when the node groups cannot be chosen (the pass fails the same way)
 */
export async function readOwnedRules(
  config: SyncConfig,
  cluster: ClusterConfig,
  desiredInstanceIds: readonly string[],
  ports: InventoryPorts & { readonly ec2: Ec2Port },
): Promise<{ groupIds: string[]; rules: OwnedRuleView[] }> {
  const settings = cluster.securityGroups;
  if (settings === undefined || !settings.enabled) return { groupIds: [], rules: [] };
  let groupIds: string[];
  if (settings.groupIds !== undefined && settings.groupIds.length > 0) {
    groupIds = [...new Set(settings.groupIds)].sort();
  } else {
    const nodes: Node[] =
      desiredInstanceIds.length > 0 ? await ports.ec2.describeInstancesById(desiredInstanceIds) : [];
    const candidates = nodeGroupCandidates(nodes);
    // Chosen as a pass chooses: a lone candidate must carry the cluster's tag too (a pass refuses it
    // otherwise, so its rules are not the product's to show).
    groupIds =
      candidates.length === 0
        ? []
        : chooseNodeGroups(cluster.name, await ports.securityGroups.describeGroups(candidates));
  }
  const perGroup = await Promise.all(groupIds.map((id) => ports.securityGroups.describeIngressRules(id)));
  const rules = perGroup
    .flat()
    .filter((rule) => isOwnedRule(rule, config.ownerId, cluster.name))
    .map((rule) => ({
      groupId: rule.groupId,
      ruleId: rule.ruleId,
      rule: describeRule(rule),
      description: rule.description ?? '',
    }))
    .sort((a, b) =>
      a.groupId === b.groupId ? a.rule.localeCompare(b.rule) : a.groupId.localeCompare(b.groupId),
    );
  return { groupIds, rules };
}

/**
 * The record sets at every name of the hosted zone that carries this cluster's TXT ownership marker
 * (the marker itself included). Empty when the cluster has no `dns` section.
 */
export async function readManagedRecords(
  config: SyncConfig,
  cluster: ClusterConfig,
  ports: InventoryPorts,
): Promise<ManagedRecordView[]> {
  if (cluster.dns === undefined) return [];
  const sets = await ports.dns.listRecordSets(cluster.dns.hostedZoneId);
  const marker = ownershipMarker(config.ownerId, cluster.name);
  const owned = new Set(sets.filter((s) => s.type === 'TXT' && s.values.includes(marker)).map((s) => s.name));
  return sets
    .filter((s) => owned.has(s.name))
    .map(recordView)
    .sort((a, b) => (a.name === b.name ? a.type.localeCompare(b.type) : a.name.localeCompare(b.name)));
}

function recordView(set: RecordSet): ManagedRecordView {
  return {
    name: set.name,
    type: set.type,
    ...(set.ttl !== undefined && { ttl: set.ttl }),
    values: [...set.values],
    ...(set.alias !== undefined && { alias: set.alias.dnsName }),
  };
}

/** Auto Scaling lifecycle states in which a hook holds the instance. */
const HELD_STATES: Readonly<Record<string, HoldKind>> = {
  'Pending:Wait': 'launch',
  'Terminating:Wait': 'terminate',
};

/**
 * The lifecycle actions Auto Scaling holds on the cluster's ASG instances (`Pending:Wait`,
 * `Terminating:Wait`), each with what it waits for now. The hold itself (deadline, heartbeats) is a
 * message on the wait queue and is not read: this judges the current targets by the same rules a re-check
 * applies (lambdas/domain/lifecycle-hold.ts), with no deadline, so it says what the product waits for,
 * not when it gives up. For a terminate it adds the groups' deregistration delay.
 */
export async function readHeldActions(
  config: SyncConfig,
  cluster: ClusterConfig,
  groups: readonly GroupPlan[],
  ports: {
    readonly autoScaling: AutoScalingPort;
    readonly ec2: Ec2Port;
    readonly targetGroups: TargetGroupPort;
  },
  now: number,
): Promise<HeldActionView[]> {
  const asgs = cluster.nodeSource.autoScalingGroups;
  if (asgs.length === 0) return [];
  const held = (await ports.autoScaling.describeGroups(asgs)).flatMap((group) =>
    group.instances
      .filter((i) => HELD_STATES[i.lifecycleState] !== undefined)
      .map((i) => ({
        instanceId: i.instanceId,
        autoScalingGroup: group.name,
        lifecycleState: i.lifecycleState,
        kind: HELD_STATES[i.lifecycleState] as HoldKind,
      })),
  );
  if (held.length === 0) return [];
  const instances = new Map(
    (await ports.ec2.describeInstancesById(held.map((h) => h.instanceId))).map((n) => [n.instanceId, n]),
  );
  const facts = groups.map((g) => groupFacts(g));
  const delays = held.some((h) => h.kind === 'terminate')
    ? await Promise.all(
        groups.map(async (g) => ({
          mapping: g.mapping.name,
          seconds: (await ports.targetGroups.describeDrainSettings(g.mapping.targetGroupArn))
            .deregistrationDelaySeconds,
        })),
      )
    : [];
  return held.map((h) => {
    const node = instances.get(h.instanceId);
    const hookName = lifecycleHookName(config.ownerId, cluster.name, h.kind);
    // No deadline: the question is what it waits for, not whether the wait ran out.
    const decision = judgeOpenWait({
      cluster: cluster.name,
      kind: h.kind,
      action: {
        autoScalingGroupName: h.autoScalingGroup,
        lifecycleHookName: hookName,
        instanceId: h.instanceId,
        transition:
          h.kind === 'launch' ? 'autoscaling:EC2_INSTANCE_LAUNCHING' : 'autoscaling:EC2_INSTANCE_TERMINATING',
      },
      ...(node !== undefined && { node }),
      groups: facts,
      settings: cluster.lifecycle,
      now,
    });
    return { ...h, hookName, next: decision.kind, waitsFor: waitsFor(h.kind, decision, cluster, delays) };
  });
}

/** Every target of a planned group, as a re-check sees it (managed, preserved and draining alike). */
export function groupFacts(group: GroupPlan): HoldGroupFacts {
  const targets: ObservedTarget[] = [
    ...group.observedOwned,
    ...group.preserved,
    ...group.draining,
    ...(group.kept ?? []),
  ];
  return {
    mapping: group.mapping.name,
    targetType: group.mapping.targetType,
    nodePort: group.mapping.nodePort,
    targets,
  };
}

function waitsFor(
  kind: HoldKind,
  decision: HoldDecision,
  cluster: ClusterConfig,
  delays: readonly { mapping: string; seconds: number }[],
): string {
  switch (decision.kind) {
    case 'answer':
      return `nothing more (${decision.reason}): the next re-check answers ${decision.result}`;
    case 'pass':
      return `a pass to put its targets in place (${decision.reason})`;
    default: {
      if (kind === 'launch') {
        return `${cluster.lifecycle.launchGate} in every group (launchGate), now: ${decision.reason}`;
      }
      const delay = Math.max(0, ...delays.map((d) => d.seconds));
      return `draining to end (deregistration delay up to ${delay} s): ${decision.reason.replace(/^draining: /, '')}`;
    }
  }
}
