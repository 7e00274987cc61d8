import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import { RedisStore } from '../../src/redis/redis-store.ts';
import { runStoreConformance } from '../contract/store-conformance.ts';
import { deleteKeys, REDIS_URL } from './services.ts';

const prefix = `yadtq-test:conformance-${randomUUID()}:`;
after(() => deleteKeys(prefix));
runStoreConformance('redis (Lua scripts)', async () => new RedisStore({ url: REDIS_URL, prefix }));
