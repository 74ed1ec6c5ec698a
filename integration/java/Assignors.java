// Kafka's own consumer assignors and consumer-protocol serialisation, for integration/assignors-java.test.ts.
// Source-launched: java -cp '<kafka libs>/*' Assignors.java  < cases.jsonl  > results.jsonl
// Input lines (JSON), each with an "id":
//   {"kind":"assign", "assignor":"range"|"roundrobin"|"cooperative-sticky", "partitions":{"topic":count,...},
//    "members":[{"memberId", "groupInstanceId"?, "topics":[...], "owned":[["t",p],...]?, "generationId"?,
//                "userData"?:hex, "rackId"?}], "followUp"?:bool}
//     Runs the assignor through ConsumerPartitionAssignor.assign(Cluster, GroupSubscription) and prints
//     {"id", "assignment":{member:[["t",p],...]}, "followUp"?:{...}}. With followUp, each member then owns what it
//     was given, at the next generation, and the assignor runs again (KIP-429's second rebalance).
//   {"kind":"subscription", "version", "topics", "userData"?, "owned"?:[["t",p],...], "generationId"?, "rackId"?}
//   {"kind":"assignment", "version", "partitions":[["t",p],...], "userData"?}
//     Print {"id", "hex"} from ConsumerProtocol.serializeSubscription / serializeAssignment.
//   {"kind":"stickyUserData", "generation"?}
//     Print {"id", "hex"}: CooperativeStickyAssignor's subscription user data, after onAssignment at that generation.
//   {"kind":"groupRound", "assignor", "partitions", "metadata":{member:hex} (the other members' JoinGroup metadata),
//    "javaMembers":[{"memberId", "topics", "generation", "assignment"?:hex}], "javaLeader":bool}
//     Print {"id", "metadata":{javaMember:hex}, "assignments"?:{member:hex}}: see groupRound.
//   {"kind":"decodeSubscription"|"decodeAssignment", "hex"}
//     Print {"id", "json"} from ConsumerProtocol.deserializeSubscription / deserializeAssignment.
// Any failure prints {"id", "error"}.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Assignment;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupSubscription;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.consumer.RoundRobinAssignor;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

@SuppressWarnings({"deprecation", "removal"}) // ConsumerGroupMetadata's constructor, the only way to call onAssignment
public class Assignors {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Node NODE = new Node(0, "localhost", 9092);

    public static void main(String[] args) throws Exception {
        // The sticky assignor logs (to stdout, with log4j's default configuration); only our JSON may go there.
        System.setProperty("log4j2.level", "OFF");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) continue;
            ObjectNode result = MAPPER.createObjectNode();
            try {
                JsonNode req = MAPPER.readTree(line);
                result.set("id", req.get("id"));
                switch (req.get("kind").asText()) {
                    case "assign": assign(req, result); break;
                    case "subscription": result.put("hex", hex(ConsumerProtocol.serializeSubscription(subscription(req), version(req)))); break;
                    case "assignment": result.put("hex", hex(ConsumerProtocol.serializeAssignment(
                        new Assignment(partitions(req.get("partitions")), bytes(req.get("userData"))), version(req)))); break;
                    case "stickyUserData": {
                        CooperativeStickyAssignor sticky = new CooperativeStickyAssignor();
                        if (req.has("generation")) sticky.onAssignment(null, new ConsumerGroupMetadata("group", req.get("generation").asInt(), "member", Optional.empty()));
                        result.put("hex", hex(sticky.subscriptionUserData(new HashSet<>())));
                        break;
                    }
                    case "groupRound": groupRound(req, result); break;
                    case "decodeSubscription": result.set("json", subscriptionJson(ConsumerProtocol.deserializeSubscription(unhex(req)))); break;
                    case "decodeAssignment": result.set("json", assignmentJson(ConsumerProtocol.deserializeAssignment(unhex(req)))); break;
                    default: throw new IllegalArgumentException("unknown kind " + req.get("kind"));
                }
            } catch (Throwable t) {
                result.put("error", t.toString());
            }
            out.println(MAPPER.writeValueAsString(result));
        }
        out.flush();
    }

    private static ConsumerPartitionAssignor assignor(String name) {
        switch (name) {
            case "range": return new RangeAssignor();
            case "roundrobin": return new RoundRobinAssignor();
            case "cooperative-sticky": return new CooperativeStickyAssignor();
            default: throw new IllegalArgumentException("unknown assignor " + name);
        }
    }

    private static void assign(JsonNode req, ObjectNode result) {
        Map<String, Integer> counts = new HashMap<>();
        req.get("partitions").properties().forEach(e -> counts.put(e.getKey(), e.getValue().asInt()));
        Map<String, Subscription> subs = new HashMap<>();
        for (JsonNode m : req.get("members")) {
            Subscription s = subscription(m);
            if (m.hasNonNull("groupInstanceId")) s.setGroupInstanceId(Optional.of(m.get("groupInstanceId").asText()));
            subs.put(m.get("memberId").asText(), s);
        }
        String name = req.get("assignor").asText();
        Map<String, List<TopicPartition>> first = runAssignor(name, counts, subs);
        result.set("assignment", assignmentJson(first));
        if (req.path("followUp").asBoolean(false)) {
            int generation = 0;
            for (Subscription s : subs.values()) generation = Math.max(generation, s.generationId().orElse(-1) + 1);
            Map<String, Subscription> next = new HashMap<>();
            for (Map.Entry<String, Subscription> e : subs.entrySet()) {
                Subscription s = e.getValue();
                Subscription n = new Subscription(s.topics(), null, first.get(e.getKey()), generation, Optional.empty());
                n.setGroupInstanceId(s.groupInstanceId());
                next.put(e.getKey(), n);
            }
            result.set("followUp", assignmentJson(runAssignor(name, counts, next)));
        }
    }

    // One rebalance of a group mixing Java members and others: Java members build their JoinGroup metadata as
    // ConsumerCoordinator.metadata() does (owned partitions decoded from the assignment bytes they last received,
    // the assignor's user data, the generation); if the leader is a Java member, it decodes every member's metadata
    // and serialises each member's assignment, as ConsumerCoordinator.onLeaderElected does.
    private static void groupRound(JsonNode req, ObjectNode result) {
        ObjectNode metadata = result.putObject("metadata");
        Map<String, ByteBuffer> all = new HashMap<>();
        req.get("metadata").properties().forEach(e -> all.put(e.getKey(), ByteBuffer.wrap(HexFormat.of().parseHex(e.getValue().asText()))));
        for (JsonNode m : req.get("javaMembers")) {
            List<String> topics = new ArrayList<>();
            for (JsonNode t : m.get("topics")) topics.add(t.asText());
            int generation = m.get("generation").asInt();
            Assignment last = m.hasNonNull("assignment")
                ? ConsumerProtocol.deserializeAssignment(ByteBuffer.wrap(HexFormat.of().parseHex(m.get("assignment").asText())))
                : new Assignment(List.of());
            CooperativeStickyAssignor assignor = new CooperativeStickyAssignor();
            if (generation >= 0) assignor.onAssignment(last, new ConsumerGroupMetadata("group", generation, m.get("memberId").asText(), Optional.empty()));
            Subscription s = new Subscription(topics, assignor.subscriptionUserData(new HashSet<>(topics)), last.partitions(), generation, Optional.empty());
            ByteBuffer bytes = ConsumerProtocol.serializeSubscription(s);
            metadata.put(m.get("memberId").asText(), hex(bytes));
            all.put(m.get("memberId").asText(), bytes);
        }
        if (!req.path("javaLeader").asBoolean(false)) return;
        Map<String, Integer> counts = new HashMap<>();
        req.get("partitions").properties().forEach(e -> counts.put(e.getKey(), e.getValue().asInt()));
        Map<String, Subscription> subs = new HashMap<>();
        all.forEach((member, bytes) -> subs.put(member, ConsumerProtocol.deserializeSubscription(bytes.duplicate())));
        ObjectNode assignments = result.putObject("assignments");
        runAssignor(req.get("assignor").asText(), counts, subs)
            .forEach((member, list) -> assignments.put(member, hex(ConsumerProtocol.serializeAssignment(new Assignment(list)))));
    }

    private static Map<String, List<TopicPartition>> runAssignor(String name, Map<String, Integer> counts, Map<String, Subscription> subs) {
        List<PartitionInfo> infos = new ArrayList<>();
        counts.forEach((topic, count) -> {
            for (int p = 0; p < count; p++) infos.add(new PartitionInfo(topic, p, NODE, new Node[] {NODE}, new Node[] {NODE}));
        });
        Cluster cluster = new Cluster("cluster", List.of(NODE), infos, new HashSet<>(), new HashSet<>());
        Map<String, Assignment> result = assignor(name).assign(cluster, new GroupSubscription(subs)).groupAssignment();
        Map<String, List<TopicPartition>> out = new HashMap<>();
        result.forEach((member, a) -> out.put(member, a.partitions()));
        return out;
    }

    private static Subscription subscription(JsonNode m) {
        List<String> topics = new ArrayList<>();
        for (JsonNode t : m.get("topics")) topics.add(t.asText());
        Optional<String> rack = m.hasNonNull("rackId") ? Optional.of(m.get("rackId").asText()) : Optional.empty();
        return new Subscription(topics, bytes(m.get("userData")), partitions(m.get("owned")),
            m.path("generationId").asInt(-1), rack);
    }

    private static List<TopicPartition> partitions(JsonNode list) {
        List<TopicPartition> out = new ArrayList<>();
        if (list != null) for (JsonNode tp : list) out.add(new TopicPartition(tp.get(0).asText(), tp.get(1).asInt()));
        return out;
    }

    private static ObjectNode assignmentJson(Map<String, List<TopicPartition>> assignment) {
        ObjectNode out = MAPPER.createObjectNode();
        assignment.forEach((member, list) -> out.set(member, partitionsJson(list)));
        return out;
    }

    private static ArrayNode partitionsJson(List<TopicPartition> list) {
        ArrayNode arr = MAPPER.createArrayNode();
        for (TopicPartition tp : list) arr.addArray().add(tp.topic()).add(tp.partition());
        return arr;
    }

    private static ObjectNode subscriptionJson(Subscription s) {
        ObjectNode out = MAPPER.createObjectNode();
        ArrayNode topics = out.putArray("topics");
        s.topics().forEach(topics::add);
        out.put("userData", s.userData() == null ? null : hex(s.userData()));
        out.set("owned", partitionsJson(s.ownedPartitions()));
        out.put("generationId", s.generationId().orElse(-1));
        out.put("rackId", s.rackId().orElse(null));
        return out;
    }

    private static ObjectNode assignmentJson(Assignment a) {
        ObjectNode out = MAPPER.createObjectNode();
        out.set("partitions", partitionsJson(a.partitions()));
        out.put("userData", a.userData() == null ? null : hex(a.userData()));
        return out;
    }

    private static short version(JsonNode req) {
        return (short) req.get("version").asInt();
    }

    private static ByteBuffer bytes(JsonNode hex) {
        return hex == null || hex.isNull() ? null : ByteBuffer.wrap(HexFormat.of().parseHex(hex.asText()));
    }

    private static ByteBuffer unhex(JsonNode req) {
        return ByteBuffer.wrap(HexFormat.of().parseHex(req.get("hex").asText()));
    }

    private static String hex(ByteBuffer buf) {
        ByteBuffer b = buf.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return HexFormat.of().formatHex(out);
    }
}
