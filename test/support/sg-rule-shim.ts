/**
 * Test-only shim for a moto 5.2.1 gap in DescribeSecurityGroupRules: it returns no `Description` for a rule
 * that references another security group (moto reads the description from the CIDR part of the rule only),
 * while AWS returns it. Without the shim, the product would see its own group-referencing rules as unowned
 * in moto, and leave them alone when they go stale. See README-moto-sg.md beside this file.
 *
 * The shim fills the missing descriptions from DescribeSecurityGroups, where moto does keep them. It is a
 * client middleware installed by the integration tests on the EC2 client they inject into
 * SecurityGroupAdapter; product code never installs it.
 */
import {
  type DescribeSecurityGroupRulesCommandOutput,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';

const SHIM_NAME = 'motoSecurityGroupRuleDescriptionShim';

/**
 * Installs the shim on the client (once) and returns the client.
 * @example new SecurityGroupAdapter(withGroupRuleDescriptions(createEc2Client()))
 */
export function withGroupRuleDescriptions(client: EC2Client): EC2Client {
  if (client.middlewareStack.identify().some((entry) => entry.startsWith(SHIM_NAME))) return client;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName !== 'DescribeSecurityGroupRulesCommand') return result;
      const output = result.output as DescribeSecurityGroupRulesCommandOutput;
      await fillDescriptions(client, output.SecurityGroupRules ?? []);
      return result;
    },
    { step: 'initialize', name: SHIM_NAME },
  );
  return client;
}

async function fillDescriptions(client: EC2Client, rules: SecurityGroupRule[]): Promise<void> {
  const missing = rules.filter(
    (rule) => rule.ReferencedGroupInfo?.GroupId !== undefined && rule.Description === undefined,
  );
  const groupIds = [
    ...new Set(missing.map((rule) => rule.GroupId).filter((id): id is string => id !== undefined)),
  ];
  if (groupIds.length === 0) return;
  const groups = await client.send(new DescribeSecurityGroupsCommand({ GroupIds: groupIds }));
  // Several pairs may match one rule (moto keeps same-source rules with different descriptions apart);
  // each is handed out once, in order, so every rule gets a description of its own.
  const used = new Set<string>();
  for (const rule of missing) {
    const group = groups.SecurityGroups?.find((g) => g.GroupId === rule.GroupId);
    const permissions = (rule.IsEgress === true ? group?.IpPermissionsEgress : group?.IpPermissions) ?? [];
    for (const [pi, permission] of permissions.entries()) {
      if (
        permission.IpProtocol !== rule.IpProtocol ||
        permission.FromPort !== rule.FromPort ||
        permission.ToPort !== rule.ToPort
      ) {
        continue;
      }
      const pairIndex = (permission.UserIdGroupPairs ?? []).findIndex(
        (pair, i) =>
          pair.GroupId === rule.ReferencedGroupInfo?.GroupId && !used.has(`${rule.GroupId}/${pi}/${i}`),
      );
      if (pairIndex < 0) continue;
      used.add(`${rule.GroupId}/${pi}/${pairIndex}`);
      rule.Description = permission.UserIdGroupPairs?.[pairIndex]?.Description;
      break;
    }
  }
}
