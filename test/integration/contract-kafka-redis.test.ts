import { runContract } from '../contract/contract.ts';
import { runFaultToleranceContract } from '../contract/fault-tolerance.ts';
import { runSubmitSemanticsContract } from '../contract/submit-semantics.ts';
import { kafkaDeadLetters, kafkaRedisBackend } from './services.ts';

runContract('kafka+redis', () => kafkaRedisBackend('contract'), kafkaDeadLetters);
runFaultToleranceContract('kafka+redis', () => kafkaRedisBackend('fault'), kafkaDeadLetters);
runSubmitSemanticsContract('kafka+redis', () => kafkaRedisBackend('semantics'));
