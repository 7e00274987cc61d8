// Ordering lanes on the embedded memory pair: the same suite as on Kafka + Redis
// (test/integration/lanes.test.ts), 3 workers sharing one memory backend.
import { createMemoryBackend } from '../../src/index.ts';
import { runLanesContract } from '../contract/lanes.ts';

runLanesContract('memory', async () => createMemoryBackend());
