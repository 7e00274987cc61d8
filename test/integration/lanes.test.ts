// Ordering lanes on real Kafka + Redis: 3 workers in this process share one backend (own
// topic, group and key prefix), so the handlers' high-resolution start and end times are
// comparable. See test/contract/lanes.ts for the cases.
import { runLanesContract } from '../contract/lanes.ts';
import { kafkaRedisBackend } from './services.ts';

runLanesContract('kafka-redis', () => kafkaRedisBackend('lanes'));
