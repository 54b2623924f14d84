/**
 * What the Lambda bundle has in place of `@smithy/core/event-streams` (infra/bundling/lambda-bundle.ts).
 *
 * The SDK loads that module with a dynamic `import()` only to send or receive an operation's event stream,
 * and none of the services the product calls (EC2, ELBv2, Auto Scaling, Route 53, SQS) has one
 * (test/infra/bundling.test.ts checks their schemas), so its ~20 KB would never run. Should a future client
 * need it, the call fails loudly here instead of misbehaving.
 */

const MESSAGE =
  'Event streams are not in the Lambda bundle (infra/bundling/event-streams-stub.ts): an operation with an event stream needs @smithy/core/event-streams bundled again';

/** Stands in for the SDK's event-stream serde; never constructed by the product's operations. */
export class EventStreamSerde {
  public constructor() {
    throw new Error(MESSAGE);
  }
}

/** Stands in for the SDK's event-stream marshaller provider; never called by the product's operations. */
export function eventStreamSerdeProvider(): never {
  throw new Error(MESSAGE);
}
