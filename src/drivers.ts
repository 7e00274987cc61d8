// The `yadtq/drivers` entry: the escape hatch to the drivers' own types, for an option
// yadtq's own types do not name. Importing it makes a user's build read the declarations
// of @platformatic/kafka and ioredis; @platformatic/kafka's need `skipLibCheck: true` (or
// `@types/debug` and the DOM's fetch types) to compile, which is why the main entry keeps
// them out. At run time this entry is empty: yadtq hands these options to the drivers as
// they are, so a value of a driver type can be passed where yadtq's own type is asked for.
import type { SASLOptions } from '@platformatic/kafka';
import type { Redis, RedisOptions } from 'ioredis';
import type { KafkaBrokerOptions } from './kafka/options.ts';
import type { RedisStoreOptions } from './redis/options.ts';

/** @platformatic/kafka's SASL options, custom authenticators included. */
export type KafkaSaslDriverOptions = SASLOptions;

/** {@link KafkaBrokerOptions} with the driver's full SASL options; pass to `KafkaBroker`. */
export type KafkaBrokerDriverOptions = Omit<KafkaBrokerOptions, 'sasl'> & {
  sasl?: SASLOptions;
};

/** ioredis' own connection options (every one of them). */
export type RedisDriverOptions = RedisOptions;

/** An ioredis connection, as `RedisStoreOptions.client` takes it. */
export type RedisDriverClient = Redis;

/** {@link RedisStoreOptions} with the driver's types; pass to `RedisStore`. */
export type RedisStoreDriverOptions = Omit<RedisStoreOptions, 'redis' | 'client'> & {
  redis?: RedisOptions;
  client?: Redis;
};
