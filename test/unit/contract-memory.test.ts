import { createMemoryBackend, type MemoryBroker } from '../../src/index.ts';
import { runContract, until } from '../contract/contract.ts';

runContract(
  'memory',
  async () => createMemoryBackend(),
  async (backend, count) => {
    const broker = backend.broker as MemoryBroker;
    await until(() => broker.messages('dead-letter').length >= count);
    return broker
      .messages('dead-letter')
      .slice(0, count)
      .map((m) => ({ value: m.value, headers: m.headers ?? {} }));
  },
);
