import { MemoryStore } from '../../src/memory/memory-store.ts';
import { runDecideConformance, runStoreConformance } from '../contract/store-conformance.ts';

runDecideConformance();
runStoreConformance('memory', async () => new MemoryStore());
