import { runContract } from '../contract/contract.ts';
import { kafkaDeadLetters, kafkaRedisBackend } from './services.ts';

runContract('kafka+redis', () => kafkaRedisBackend('contract'), kafkaDeadLetters);
