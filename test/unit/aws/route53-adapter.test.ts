import {
  ChangeResourceRecordSetsCommand,
  GetHostedZoneCommand,
  InvalidChangeBatch,
  ListResourceRecordSetsCommand,
  NoSuchHostedZone,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { Readable } from 'node:stream';
import { createRoute53Client } from '../../../lambdas/aws/clients';
import { decodeName, Route53Adapter } from '../../../lambdas/aws/route53-adapter';
import { MissingResourceError } from '../../../lambdas/domain/errors';
import { RecordChangeRejectedError } from '../../../lambdas/domain/network-errors';
import type { RecordChange } from '../../../lambdas/domain/network-ports';

const client = new Route53Client({ region: 'us-east-1' });
const route53 = mockClient(client);

const MARKER = '"heritage=nlb-nodeport-sync,owner=nlb-nodeport-sync,cluster=blue"';
const CHANGES: RecordChange[] = [
  { action: 'CREATE', recordSet: { name: 'nodes.example.com.', type: 'A', ttl: 60, values: ['10.0.0.1'] } },
  { action: 'CREATE', recordSet: { name: 'nodes.example.com.', type: 'TXT', ttl: 60, values: [MARKER] } },
  {
    action: 'UPSERT',
    recordSet: {
      name: 'web.example.com.',
      type: 'A',
      values: [],
      alias: {
        dnsName: 'web.elb.amazonaws.com.',
        hostedZoneId: 'Z2IFOLAFXWLO4F',
        evaluateTargetHealth: true,
      },
    },
  },
];

const XMLNS = 'https://route53.amazonaws.com/doc/2013-04-01/';

/** An HTTP handler answering with canned Route 53 XML, so the SDK's own retry logic runs for real. */
function cannedHandler(answers: { status: number; body: string }[]) {
  const calls: number[] = [];
  return {
    calls,
    handler: {
      handle: async () => {
        const answer = answers[Math.min(calls.length, answers.length - 1)] as {
          status: number;
          body: string;
        };
        calls.push(answer.status);
        return {
          response: {
            statusCode: answer.status,
            reason: '',
            headers: { 'content-type': 'text/xml' },
            body: Readable.from([Buffer.from(answer.body)]),
          },
        };
      },
      updateHttpClientConfig: () => undefined,
      httpHandlerConfigs: () => ({}),
    },
  };
}

function errorXml(code: string): string {
  return `<?xml version="1.0"?><ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${code}</Message></Error><RequestId>r1</RequestId></ErrorResponse>`;
}

const CHANGED_XML = `<?xml version="1.0"?><ChangeResourceRecordSetsResponse xmlns="${XMLNS}"><ChangeInfo><Id>/change/C1</Id><Status>PENDING</Status><SubmittedAt>2024-01-01T00:00:00Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>`;

describe('Class: Route53Adapter', () => {
  beforeEach(() => {
    route53.reset();
  });

  describe('Method: describeZone', () => {
    it('returns the bare zone id and the normalised zone name', async () => {
      // Prepare
      route53.on(GetHostedZoneCommand).resolves({
        HostedZone: { Id: '/hostedzone/Z0EXAMPLE', Name: 'Example.com.', CallerReference: 'x' },
        DelegationSet: { NameServers: [] },
      });
      const adapter = new Route53Adapter(client);

      // Act
      const zone = await adapter.describeZone('Z0EXAMPLE');

      // Assess
      expect(zone).toEqual({ id: 'Z0EXAMPLE', name: 'example.com.' });
    });

    it('turns NoSuchHostedZone into a MissingResourceError', async () => {
      // Prepare
      route53.on(GetHostedZoneCommand).rejects(new NoSuchHostedZone({ $metadata: {}, message: 'no zone' }));
      const adapter = new Route53Adapter(client);

      // Act & Assess
      await expect(adapter.describeZone('Z0GONE')).rejects.toThrow(MissingResourceError);
    });
  });

  describe('Method: listRecordSets', () => {
    it('follows the (name, type, identifier) cursor through every page and decodes escaped names', async () => {
      // Prepare
      route53
        .on(ListResourceRecordSetsCommand)
        .resolvesOnce({
          ResourceRecordSets: [
            {
              Name: '\\052.example.com.',
              Type: 'A',
              TTL: 60,
              ResourceRecords: [{ Value: '10.0.0.2' }, { Value: '10.0.0.1' }],
            },
          ],
          IsTruncated: true,
          NextRecordName: 'web.example.com.',
          NextRecordType: 'A',
          MaxItems: 1,
        })
        .resolvesOnce({
          ResourceRecordSets: [
            {
              Name: 'web.example.com.',
              Type: 'A',
              AliasTarget: {
                DNSName: 'web.elb.amazonaws.com.',
                HostedZoneId: 'Z2',
                EvaluateTargetHealth: true,
              },
            },
          ],
          IsTruncated: false,
          MaxItems: 1,
        });
      const adapter = new Route53Adapter(client);

      // Act
      const sets = await adapter.listRecordSets('Z0EXAMPLE');

      // Assess
      expect(sets).toEqual([
        { name: '*.example.com.', type: 'A', ttl: 60, values: ['10.0.0.1', '10.0.0.2'] },
        {
          name: 'web.example.com.',
          type: 'A',
          values: [],
          alias: { dnsName: 'web.elb.amazonaws.com.', hostedZoneId: 'Z2', evaluateTargetHealth: true },
        },
      ]);
      expect(route53).toHaveReceivedNthCommandWith(2, ListResourceRecordSetsCommand, {
        HostedZoneId: 'Z0EXAMPLE',
        StartRecordName: 'web.example.com.',
        StartRecordType: 'A',
      });
    });
  });

  describe('Method: changeRecordSets', () => {
    it('sends the whole batch in one call, aliases with their target and plain sets with TTL and values', async () => {
      // Prepare
      route53.on(ChangeResourceRecordSetsCommand).resolves({
        ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date(0) },
      });
      const adapter = new Route53Adapter(client);

      // Act
      const result = await adapter.changeRecordSets('Z0EXAMPLE', CHANGES, 'nlb-nodeport-sync blue');

      // Assess
      expect(result).toEqual({ changeId: '/change/C1', status: 'PENDING' });
      expect(route53).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 1);
      expect(route53).toHaveReceivedCommandWith(ChangeResourceRecordSetsCommand, {
        HostedZoneId: 'Z0EXAMPLE',
        ChangeBatch: {
          Comment: 'nlb-nodeport-sync blue',
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: 'nodes.example.com.',
                Type: 'A',
                TTL: 60,
                ResourceRecords: [{ Value: '10.0.0.1' }],
              },
            },
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: 'nodes.example.com.',
                Type: 'TXT',
                TTL: 60,
                ResourceRecords: [{ Value: MARKER }],
              },
            },
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: 'web.example.com.',
                Type: 'A',
                AliasTarget: {
                  DNSName: 'web.elb.amazonaws.com.',
                  HostedZoneId: 'Z2IFOLAFXWLO4F',
                  EvaluateTargetHealth: true,
                },
              },
            },
          ],
        },
      });
    });

    it('turns InvalidChangeBatch into a RecordChangeRejectedError carrying Route 53 messages', async () => {
      // Prepare
      route53.on(ChangeResourceRecordSetsCommand).rejects(
        new InvalidChangeBatch({
          $metadata: {},
          message: 'bad',
          messages: [
            'Tried to create resource record set [name=nodes.example.com., type=A] but it already exists',
          ],
        }),
      );
      const adapter = new Route53Adapter(client);

      // Act & Assess
      await expect(adapter.changeRecordSets('Z0EXAMPLE', CHANGES, 'c')).rejects.toThrow(
        new RecordChangeRejectedError('Z0EXAMPLE', [
          'Tried to create resource record set [name=nodes.example.com., type=A] but it already exists',
        ]),
      );
    });

    it.each([
      'PriorRequestNotComplete',
      'Throttling',
    ])('relies on the SDK client to retry %s with backoff (no hand-written loop)', async (code) => {
      // Prepare
      const canned = cannedHandler([
        { status: 400, body: errorXml(code) },
        { status: 200, body: CHANGED_XML },
      ]);
      const realClient = createRoute53Client({
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
        requestHandler: canned.handler,
        maxAttempts: 3,
      });
      const adapter = new Route53Adapter(realClient);

      // Act
      const result = await adapter.changeRecordSets('Z0EXAMPLE', CHANGES, 'c');

      // Assess
      expect(result).toEqual({ changeId: '/change/C1', status: 'PENDING' });
      expect(canned.calls).toEqual([400, 200]);
    }, 15_000);
  });
});

describe('Function: decodeName', () => {
  it('decodes the octal escapes Route 53 uses', () => {
    // Act & Assess
    expect(decodeName('\\052.example.com.')).toBe('*.example.com.');
  });
});
