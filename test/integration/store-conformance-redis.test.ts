import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import { RedisStores } from '../../src/redis/redis-stores.ts';
import { runStoreConformance } from '../contract/store-conformance.ts';
import { runStoreLanes } from '../contract/store-lanes.ts';
import { runStoreLimits } from '../contract/store-limits.ts';
import { runStoreParity } from '../contract/store-parity.ts';
import { runStorePauses } from '../contract/store-pauses.ts';
import { runStoreRates } from '../contract/store-rates.ts';
import { runScheduleStore } from '../contract/store-schedules.ts';
import { deleteKeys, REDIS_URL } from './services.ts';

const prefix = `yadtq-test:conformance-${randomUUID()}:`;
after(() => deleteKeys(prefix));
runStoreConformance('redis (Lua scripts)', async () => new RedisStores({ url: REDIS_URL, prefix }));
runStoreConformance(
  'redis (Lua scripts)',
  async () => new RedisStores({ url: REDIS_URL, prefix }),
  'many',
);
runStoreParity('redis (Lua scripts)', async () => new RedisStores({ url: REDIS_URL, prefix }));
runStoreLanes('redis (Lua scripts)', async () => new RedisStores({ url: REDIS_URL, prefix }));
runStoreLimits('redis (Lua scripts)', async () => new RedisStores({ url: REDIS_URL, prefix }));
runStoreRates('redis (Lua scripts)', async () => new RedisStores({ url: REDIS_URL, prefix }));
runScheduleStore('redis', async () => new RedisStores({ url: REDIS_URL, prefix }));
runStorePauses('redis (Lua scripts)', async () => new RedisStores({ url: REDIS_URL, prefix }));
