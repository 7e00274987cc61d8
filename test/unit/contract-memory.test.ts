import { createMemoryBackend, type MemoryBroker } from '../../src/index.ts';
import { type DeadLetterReader, runContract, until } from '../contract/contract.ts';
import { runFaultToleranceContract } from '../contract/fault-tolerance.ts';
import { runSubmitSemanticsContract } from '../contract/submit-semantics.ts';

const deadLetters: DeadLetterReader = async (backend, count) => {
  const broker = backend.broker as MemoryBroker;
  await until(() => broker.messages('dead-letter').length >= count);
  return broker
    .messages('dead-letter')
    .slice(0, count)
    .map((m) => ({ value: m.value, headers: m.headers ?? {} }));
};

runContract('memory', async () => createMemoryBackend(), deadLetters);
runFaultToleranceContract('memory', async () => createMemoryBackend(), deadLetters);
runSubmitSemanticsContract('memory', async () => createMemoryBackend());
