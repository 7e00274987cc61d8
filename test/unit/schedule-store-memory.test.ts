import { MemorySchedules } from '../../src/memory/memory-schedules.ts';
import { memoryStores } from '../../src/memory/memory-store.ts';
import { runScheduleStore } from '../contract/store-schedules.ts';

runScheduleStore('memory', async () => ({ ...memoryStores(), schedules: new MemorySchedules() }));
