// A yadtq task submitted from Java with Kafka's own producer: the envelope is plain JSON
// (schema/task-envelope.schema.json), the key is the task id. Run a yadtq worker, then:
//   java -cp "$HOME/.cache/yadtq/kafka-4.2.0/libs/*" examples/ProduceTask.java localhost:9092 yadtq_tasks 20
// and follow a task with `npx yadtq status <id>`.
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

public class ProduceTask {
  public static void main(String[] argv) throws Exception {
    String brokers = argv.length > 0 ? argv[0] : "localhost:9092";
    String topic = argv.length > 1 ? argv[1] : "yadtq_tasks";
    int count = argv.length > 2 ? Integer.parseInt(argv[2]) : 1;
    Properties props = new Properties();
    props.put("bootstrap.servers", brokers);
    props.put("acks", "all");
    props.put("enable.idempotence", "true");
    props.put("key.serializer", StringSerializer.class.getName());
    props.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      for (int i = 0; i < count; i++) {
        String id = "java-" + UUID.randomUUID();
        String envelope = String.format(
            "{\"v\":1,\"id\":\"%s\",\"name\":\"add\",\"args\":[%d,%d],\"attempt\":1,"
                + "\"maxAttempts\":3,\"timeoutMs\":30000,\"dedupKey\":null,\"submittedAt\":%d}",
            id, i, 1000, System.currentTimeMillis());
        producer.send(new ProducerRecord<>(topic, id, envelope)).get();
        System.out.println(id);
      }
    }
  }
}
