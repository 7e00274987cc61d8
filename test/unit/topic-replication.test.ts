import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replicationFor, topicConfigs } from '../../src/kafka/topic-replication.ts';

test("'auto' replication: 1 on a single broker, 3 with min.insync.replicas 2 on a cluster", () => {
  const auto = { replicationFactor: 'auto', minInSyncReplicas: 'auto' } as const;
  assert.deepEqual(replicationFor(auto, 1), { replicationFactor: 1, minInSyncReplicas: undefined });
  assert.deepEqual(replicationFor(auto, 3), { replicationFactor: 3, minInSyncReplicas: 2 });
  assert.deepEqual(replicationFor(auto, 5), { replicationFactor: 3, minInSyncReplicas: 2 });
  // Two brokers still ask for 3: Kafka refuses and the broker says why, rather than a
  // topic that silently cannot lose a broker.
  assert.deepEqual(replicationFor(auto, 2), { replicationFactor: 3, minInSyncReplicas: 2 });
  assert.deepEqual(topicConfigs(replicationFor(auto, 1)), []);
  assert.deepEqual(topicConfigs(replicationFor(auto, 3)), [
    { name: 'min.insync.replicas', value: '2' },
  ]);
});

test('numbers given are kept as they are', () => {
  assert.deepEqual(replicationFor({ replicationFactor: 2, minInSyncReplicas: 'auto' }, 5), {
    replicationFactor: 2,
    minInSyncReplicas: undefined,
  });
  assert.deepEqual(replicationFor({ replicationFactor: 5, minInSyncReplicas: 3 }, 1), {
    replicationFactor: 5,
    minInSyncReplicas: 3,
  });
  assert.deepEqual(replicationFor({ replicationFactor: 'auto', minInSyncReplicas: 1 }, 3), {
    replicationFactor: 3,
    minInSyncReplicas: 1,
  });
});
