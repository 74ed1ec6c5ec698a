import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes interleaved transactions of two transactional producers to partition 0 of a topic, some committed and
 * some aborted, for the fetcher's read_committed test. Values are "p<producer>-r<round>-<i>-<commit|abort>".
 * Args: bootstrap topic rounds perRound. Prints the number of committed records.
 */
public class TxnProducer {
  static KafkaProducer<String, String> producer(String bootstrap, String txnId) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("transactional.id", txnId);
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    p.put("linger.ms", "0");
    KafkaProducer<String, String> kp = new KafkaProducer<>(p);
    kp.initTransactions();
    return kp;
  }

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], topic = args[1];
    int rounds = Integer.parseInt(args[2]), perRound = Integer.parseInt(args[3]);
    String id = Long.toString(System.nanoTime());
    try (KafkaProducer<String, String> a = producer(bootstrap, "fetch-a-" + id); KafkaProducer<String, String> b = producer(bootstrap, "fetch-b-" + id)) {
      int committed = 0;
      for (int r = 0; r < rounds; r++) {
        boolean abortA = r % 3 == 0, abortB = r % 4 == 1;
        a.beginTransaction();
        b.beginTransaction();
        for (int i = 0; i < perRound; i++) {
          a.send(new ProducerRecord<>(topic, 0, null, "p1-r" + r + "-" + i + (abortA ? "-abort" : "-commit")));
          b.send(new ProducerRecord<>(topic, 0, null, "p2-r" + r + "-" + i + (abortB ? "-abort" : "-commit")));
          if (i % 5 == 0) { a.flush(); b.flush(); }
        }
        a.flush();
        b.flush();
        if (abortA) a.abortTransaction(); else { a.commitTransaction(); committed += perRound; }
        if (abortB) b.abortTransaction(); else { b.commitTransaction(); committed += perRound; }
      }
      System.out.println(committed);
    }
  }
}
