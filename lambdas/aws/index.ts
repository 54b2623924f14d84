/** The AWS adapters: the only code of the product that imports the AWS SDK. */
export { AUTO_SCALING_GROUP_NAMES_PER_CALL, AutoScalingAdapter } from './auto-scaling-adapter';
export {
  autoScalingClient,
  createAutoScalingClient,
  createEc2Client,
  createElbv2Client,
  createRoute53Client,
  ec2Client,
  elbv2Client,
  route53Client,
  SDK_CLIENT_CONFIG,
} from './clients';
export { Ec2InstanceAdapter, INSTANCE_IDS_PER_CALL, LIVE_INSTANCE_STATES } from './ec2-instance-adapter';
export { TARGETS_PER_CALL, TargetGroupAdapter } from './target-group-adapter';
