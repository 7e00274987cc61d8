import { createMemoryBackend } from '../../src/index.ts';
import { runContract } from '../contract/contract.ts';

runContract('memory', async () => createMemoryBackend());
