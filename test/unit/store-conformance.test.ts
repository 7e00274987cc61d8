import { memoryStores } from '../../src/memory/memory-store.ts';
import { runDecideConformance, runStoreConformance } from '../contract/store-conformance.ts';
import { runStoreLanes } from '../contract/store-lanes.ts';
import { runStoreLimits } from '../contract/store-limits.ts';
import { runStoreParity } from '../contract/store-parity.ts';
import { runStorePauses } from '../contract/store-pauses.ts';
import { runStoreRates } from '../contract/store-rates.ts';

runDecideConformance();
runStoreConformance('memory', async () => memoryStores());
runStoreConformance('memory', async () => memoryStores(), 'many');
runStoreParity('memory', async () => memoryStores());
runStoreLanes('memory', async () => memoryStores());
runStoreLimits('memory', async () => memoryStores());
runStoreRates('memory', async () => memoryStores());
runStorePauses('memory', async () => {
  const stores = memoryStores();
  return { ...stores, pauses: stores.store.pauses };
});
