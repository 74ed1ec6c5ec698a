// dpkafka-peer: a dp-kafka v4 service in miniature, for kafka-channels' interop tests (integration/dpkafka-*.test.ts).
// It uses dp-kafka's own Producer and ConsumerGroup (and so the Sarama version dp-kafka pins) the way a service does.
//
//	dpkafka-peer produce -brokers B -topic T -n N [-prefix P] [-header k=v ...] [-codec none|gzip|snappy|lz4|zstd]
//	    sends N values "P-0".."P-(N-1)" through dp-kafka's Output channel; prints {"type":"produced","count":N}.
//	dpkafka-peer consume -brokers B -topic T -group G [-assignor roundrobin|range] [-client-id C] [-session-ms MS] [-min-brokers N]
//	    consumes through a dp-kafka handler, printing one JSON line per record, {"type":"record",...}; reads stdin
//	    for commands ("health" prints {"type":"health",...}); exits when stdin closes or on SIGINT/SIGTERM, closing
//	    the group (so it leaves it).
//	dpkafka-peer codec
//	    reads lines "sub HEX", "asg HEX" (decode as Sarama's JoinGroup/SyncGroup responses do) or "enc-sub T1,T2" /
//	    "enc-asg T:p,p;T2:p" (Sarama's encoders) and prints one JSON line each.
//
// All logging (dp-kafka's log.go) goes to stderr; stdout carries only this program's JSON lines.
// dp-kafka exposes neither record keys nor per-record headers on its producer, nor the compression codec or the
// balance strategy in its config: -codec and -assignor reach Sarama's config through dp-kafka's generator hooks
// (NewProducerWithGenerators / NewConsumerGroupWithGenerators), the way a service would customise it.
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ONSdigital/dp-healthcheck/healthcheck"
	kafka "github.com/ONSdigital/dp-kafka/v4"
	"github.com/ONSdigital/log.go/v2/log"
	"github.com/Shopify/sarama"
)

var out = struct {
	sync.Mutex
	enc *json.Encoder
}{enc: json.NewEncoder(os.Stdout)}

func emit(v map[string]any) {
	out.Lock()
	defer out.Unlock()
	_ = out.enc.Encode(v)
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "dpkafka-peer: "+format+"\n", a...)
	os.Exit(2)
}

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ",") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	log.SetDestination(os.Stderr, os.Stderr)
	if len(os.Args) < 2 {
		fail("usage: dpkafka-peer produce|consume|codec [flags]")
	}
	switch os.Args[1] {
	case "produce":
		produce(os.Args[2:])
	case "consume":
		consume(os.Args[2:])
	case "codec":
		codec()
	default:
		fail("unknown command %q", os.Args[1])
	}
}

func codecOf(name string) sarama.CompressionCodec {
	switch name {
	case "", "none":
		return sarama.CompressionNone
	case "gzip":
		return sarama.CompressionGZIP
	case "snappy":
		return sarama.CompressionSnappy
	case "lz4":
		return sarama.CompressionLZ4
	case "zstd":
		return sarama.CompressionZSTD
	}
	fail("unknown codec %q", name)
	return sarama.CompressionNone
}

func produce(args []string) {
	fs := flag.NewFlagSet("produce", flag.ExitOnError)
	brokers := fs.String("brokers", "", "comma-separated bootstrap addresses")
	topic := fs.String("topic", "", "topic")
	n := fs.Int("n", 1, "how many records")
	prefix := fs.String("prefix", "dp", "value prefix")
	codecName := fs.String("codec", "none", "none|gzip|snappy|lz4|zstd")
	version := fs.String("kafka-version", "3.0.0", "Sarama's KafkaVersion")
	var headers headerFlags
	fs.Var(&headers, "header", "k=v, repeatable (dp-kafka adds it to every record)")
	_ = fs.Parse(args)
	ctx := context.Background()
	codec := codecOf(*codecName)
	cfg := &kafka.ProducerConfig{Topic: *topic, BrokerAddrs: strings.Split(*brokers, ","), KafkaVersion: version}
	one, retries, backoff := 1, 10, 250*time.Millisecond
	cfg.MinBrokersHealthy = &one
	cfg.RetryMax, cfg.RetryBackoff = &retries, &backoff // a loaded test machine: ride out slow moments
	// dp-kafka's Close can race its own forwarding loop (a record taken from Output after Sarama began shutting
	// down fails with "Failed to deliver"): count Sarama's acknowledgements and close only once all arrived.
	var acked atomic.Int64
	init := func(addrs []string, c *sarama.Config) (sarama.AsyncProducer, error) {
		c.Producer.Compression = codec
		c.Producer.Return.Successes = true
		ap, err := sarama.NewAsyncProducer(addrs, c)
		if err == nil {
			go func() {
				for range ap.Successes() {
					acked.Add(1)
				}
			}()
		}
		return ap, err
	}
	p, err := kafka.NewProducerWithGenerators(ctx, cfg, init, kafka.SaramaNewBroker)
	if err != nil {
		fail("producer: %v", err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, "=")
		p.AddHeader(k, v)
	}
	select {
	case <-p.Channels().Initialised:
	case <-time.After(60 * time.Second):
		fail("producer not initialised after 60 s")
	}
	go func() {
		for err := range p.Channels().Errors {
			emit(map[string]any{"type": "error", "error": err.Error()})
		}
	}()
	for i := 0; i < *n; i++ {
		p.Channels().Output <- kafka.BytesMessage{Context: ctx, Value: []byte(fmt.Sprintf("%s-%d", *prefix, i))}
	}
	for deadline := time.Now().Add(90 * time.Second); acked.Load() < int64(*n) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.Close(ctx); err != nil {
		fail("close: %v", err)
	}
	emit(map[string]any{"type": "produced", "count": *n, "acked": acked.Load()})
}

// peerHeader carries what dp-kafka's Message does not expose (topic, partition, key, all headers) from Sarama's
// claim to the handler, on the record itself.
const peerHeader = "x-dpkafka-peer"

type claimInfo struct {
	Topic     string            `json:"topic"`
	Partition int32             `json:"partition"`
	Key       *string           `json:"key"`
	Headers   map[string]string `json:"headers"`
}

// annotatingGroup wraps Sarama's consumer group so each record reaching dp-kafka's handler carries peerHeader.
type annotatingGroup struct{ sarama.ConsumerGroup }

func (g annotatingGroup) Consume(ctx context.Context, topics []string, h sarama.ConsumerGroupHandler) error {
	return g.ConsumerGroup.Consume(ctx, topics, annotatingHandler{h})
}

type annotatingHandler struct{ sarama.ConsumerGroupHandler }

func (h annotatingHandler) Setup(s sarama.ConsumerGroupSession) error {
	emit(map[string]any{"type": "assigned", "memberId": s.MemberID(), "generation": s.GenerationID(), "claims": s.Claims()})
	return h.ConsumerGroupHandler.Setup(s)
}

func (h annotatingHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	ch := make(chan *sarama.ConsumerMessage)
	go func() {
		defer close(ch)
		for m := range c.Messages() {
			info := claimInfo{Topic: m.Topic, Partition: m.Partition, Headers: map[string]string{}}
			if m.Key != nil {
				k := string(m.Key)
				info.Key = &k
			}
			for _, rh := range m.Headers {
				info.Headers[string(rh.Key)] = string(rh.Value)
			}
			b, _ := json.Marshal(info)
			m.Headers = append(m.Headers, &sarama.RecordHeader{Key: []byte(peerHeader), Value: b})
			ch <- m
		}
	}()
	return h.ConsumerGroupHandler.ConsumeClaim(s, claimWith{c, ch})
}

type claimWith struct {
	sarama.ConsumerGroupClaim
	ch chan *sarama.ConsumerMessage
}

func (c claimWith) Messages() <-chan *sarama.ConsumerMessage { return c.ch }

func consume(args []string) {
	fs := flag.NewFlagSet("consume", flag.ExitOnError)
	brokers := fs.String("brokers", "", "comma-separated bootstrap addresses")
	topic := fs.String("topic", "", "topic")
	group := fs.String("group", "", "group name")
	assignor := fs.String("assignor", "roundrobin", "roundrobin|range")
	sessionMs := fs.Int("session-ms", 10000, "session timeout (dp-kafka's MessageConsumeTimeout)")
	version := fs.String("kafka-version", "3.0.0", "Sarama's KafkaVersion")
	retentionMs := fs.Int("offsets-retention-ms", 7*24*3600*1000, "Sarama's Consumer.Offsets.Retention; 0 keeps Sarama's default")
	minBrokers := fs.Int("min-brokers", 1, "dp-kafka's MinBrokersHealthy")
	clientID := fs.String("client-id", "", "Sarama's ClientID (how the broker lists the member)")
	healthMs := fs.Int("health-ms", 0, "print the health check every this many ms (0: only on the 'health' command)")
	_ = fs.Parse(args)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	session := time.Duration(*sessionMs) * time.Millisecond
	minRetry, maxRetry := 200*time.Millisecond, 2*time.Second
	cfg := &kafka.ConsumerGroupConfig{
		Topic: *topic, GroupName: *group, BrokerAddrs: strings.Split(*brokers, ","), KafkaVersion: version,
		MessageConsumeTimeout: &session, MinRetryPeriod: &minRetry, MaxRetryPeriod: &maxRetry, MinBrokersHealthy: minBrokers,
	}
	var strategy sarama.BalanceStrategy
	switch *assignor {
	case "roundrobin":
		strategy = sarama.BalanceStrategyRoundRobin
	case "range":
		strategy = sarama.BalanceStrategyRange
	default:
		fail("unknown assignor %q", *assignor)
	}
	init := func(addrs []string, groupID string, c *sarama.Config) (sarama.ConsumerGroup, error) {
		c.Consumer.Group.Rebalance.Strategy = strategy
		if *clientID != "" {
			c.ClientID = *clientID
		}
		// Sarama 1.38 commits with OffsetCommit v1 unless a retention is set (then v2). Kafka 4.0 removed v0-v1
		// (KIP-896): the broker closes the connection and every commit of a default dp-kafka v4.3 is lost.
		c.Consumer.Offsets.Retention = time.Duration(*retentionMs) * time.Millisecond
		c.Consumer.Group.Heartbeat.Interval = session / 5
		g, err := sarama.NewConsumerGroup(addrs, groupID, c)
		if err != nil {
			return nil, err
		}
		return annotatingGroup{g}, nil
	}
	cg, err := kafka.NewConsumerGroupWithGenerators(ctx, cfg, init, kafka.SaramaNewBroker)
	if err != nil {
		fail("consumer group: %v", err)
	}
	err = cg.RegisterHandler(ctx, func(_ context.Context, _ int, msg kafka.Message) error {
		var info claimInfo
		_ = json.Unmarshal([]byte(msg.GetHeader(peerHeader)), &info)
		emit(map[string]any{
			"type": "record", "topic": info.Topic, "partition": info.Partition, "offset": msg.Offset(),
			"key": info.Key, "value": string(msg.GetData()), "headers": info.Headers,
		})
		return nil // dp-kafka commits and releases the message
	})
	if err != nil {
		fail("register handler: %v", err)
	}
	go func() {
		for err := range cg.Channels().Errors {
			emit(map[string]any{"type": "error", "error": err.Error()})
		}
	}()
	if err := cg.Start(); err != nil {
		fail("start: %v", err)
	}
	health := func() {
		st := healthcheck.NewCheckState("kafka")
		if err := cg.Checker(ctx, st); err != nil {
			emit(map[string]any{"type": "health", "error": err.Error()})
			return
		}
		emit(map[string]any{"type": "health", "status": st.Status(), "message": st.Message(), "state": cg.State().String()})
	}
	if *healthMs > 0 {
		go func() {
			for range time.Tick(time.Duration(*healthMs) * time.Millisecond) {
				health()
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "health" {
				health()
			}
		}
		close(done)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	emit(map[string]any{"type": "started"})
	select {
	case <-done:
	case <-sig:
	}
	if err := cg.Close(ctx); err != nil {
		fail("close: %v", err)
	}
	emit(map[string]any{"type": "closed"})
}

func codec() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		switch cmd {
		case "sub":
			b, err := hex.DecodeString(arg)
			if err != nil {
				fail("hex: %v", err)
			}
			resp := sarama.JoinGroupResponse{Members: []sarama.GroupMember{{MemberId: "m", Metadata: b}}}
			members, err := resp.GetMembers()
			if err != nil {
				emit(map[string]any{"type": "sub", "error": err.Error()})
				continue
			}
			m := members["m"]
			owned := map[string][]int32{}
			for _, op := range m.OwnedPartitions {
				owned[op.Topic] = op.Partitions
			}
			emit(map[string]any{"type": "sub", "version": m.Version, "topics": m.Topics, "userData": hex.EncodeToString(m.UserData), "owned": owned})
		case "asg":
			b, err := hex.DecodeString(arg)
			if err != nil {
				fail("hex: %v", err)
			}
			a, err := (&sarama.SyncGroupResponse{MemberAssignment: b}).GetMemberAssignment()
			if err != nil {
				emit(map[string]any{"type": "asg", "error": err.Error()})
				continue
			}
			emit(map[string]any{"type": "asg", "version": a.Version, "topics": a.Topics, "userData": hex.EncodeToString(a.UserData)})
		case "enc-sub":
			req := &sarama.JoinGroupRequest{}
			if err := req.AddGroupProtocolMetadata("roundrobin", &sarama.ConsumerGroupMemberMetadata{Topics: strings.Split(arg, ",")}); err != nil {
				fail("encode: %v", err)
			}
			emit(map[string]any{"type": "enc-sub", "hex": hex.EncodeToString(req.OrderedGroupProtocols[0].Metadata)})
		case "enc-asg":
			topics := map[string][]int32{}
			names := []string{}
			for _, part := range strings.Split(arg, ";") {
				if part == "" {
					continue
				}
				t, ps, _ := strings.Cut(part, ":")
				names = append(names, t)
				for _, p := range strings.Split(ps, ",") {
					if p == "" {
						continue
					}
					v, err := strconv.Atoi(p)
					if err != nil {
						fail("partition %q: %v", p, err)
					}
					topics[t] = append(topics[t], int32(v))
				}
			}
			sort.Strings(names)
			req := &sarama.SyncGroupRequest{}
			if err := req.AddGroupAssignmentMember("m", &sarama.ConsumerGroupMemberAssignment{Topics: topics}); err != nil {
				fail("encode: %v", err)
			}
			emit(map[string]any{"type": "enc-asg", "hex": hex.EncodeToString(req.GroupAssignments[0].Assignment), "topics": names})
		default:
			fail("unknown codec command %q", cmd)
		}
	}
}
