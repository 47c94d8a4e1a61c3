// kafkajs_test.js: kafkajs 2.2.4 against a Samsa cluster (run by ../0024_kafkajs.sh).
//
//   node kafkajs_test.js BOOTSTRAP
//
// admin: createTopics (waitForLeaders), listTopics, fetchTopicMetadata, createTopics again
// (already exists -> false); producer acks -1: 300 keyed messages over 3 partitions with a
// header, then a gzip batch of 100 more; admin.fetchTopicOffsets shows exactly what was written
// (low 0, high = messages per partition) and fetchTopicOffsetsByTimestamp (ListOffsets by
// time) finds offset 0 for an old timestamp; deleteTopics removes the topic. Prints one
// "ok - ..." / "not ok - ..." line per check (kafkajs's own log goes to stderr) and exits 1
// when a check failed.
'use strict';

const { Kafka, CompressionTypes, logLevel } = require('kafkajs');

const brokers = (process.argv[2] || '').split(',').filter(Boolean);
const topic = 'js-' + process.pid;
const NP = 3;
let failed = 0;

function check(what, cond, detail) {
  if (cond) {
    console.log(`ok - kafkajs: ${what}`);
  } else {
    failed++;
    console.log(`not ok - kafkajs: ${what}${detail !== undefined ? ' (' + JSON.stringify(detail) + ')' : ''}`);
  }
}

const logCreator = () => ({ namespace, level, log }) => {
  process.stderr.write(`${level} ${namespace} ${log.message} ${JSON.stringify(log)}\n`);
};

async function main() {
  const kafka = new Kafka({
    clientId: 'samsa-kafkajs-test',
    brokers,
    logLevel: logLevel.INFO,
    logCreator,
    connectionTimeout: 5000,
    requestTimeout: 15000,
    retry: { retries: 8, initialRetryTime: 200 },
  });
  const admin = kafka.admin();
  await admin.connect();

  const created = await admin.createTopics({
    waitForLeaders: true,
    timeout: 15000,
    topics: [{ topic, numPartitions: NP, replicationFactor: 2 }],
  });
  check(`createTopics ${topic} (3 partitions, RF 2) with waitForLeaders`, created === true, created);
  const again = await admin.createTopics({ topics: [{ topic, numPartitions: NP }] });
  check('createTopics of an existing topic answers false', again === false, again);

  const topics = await admin.listTopics();
  check('listTopics includes the new topic', topics.includes(topic), topics);
  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  const parts = md.topics[0].partitions;
  check('fetchTopicMetadata shows 3 partitions, each with a leader and 2 replicas',
    parts.length === NP && parts.every((p) => p.leader >= 0 && p.replicas.length === 2), parts);

  try {
    await produceAndCount(kafka);
  } catch (e) {
    check('producer and fetchTopicOffsets run without an exception', false, `${e.name}: ${e.message}`);
  }

  await admin.deleteTopics({ topics: [topic], timeout: 15000 });
  let gone = false;
  for (let i = 0; i < 50 && !gone; i++) {
    gone = !(await admin.listTopics()).includes(topic);
    if (!gone) await new Promise((res) => setTimeout(res, 200));
  }
  check('deleteTopics removes the topic from listTopics', gone);
  await admin.disconnect();
}

async function produceAndCount(kafka) {
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const perPart = new Array(NP).fill(0);
  const messages = [];
  for (let i = 0; i < 300; i++) {
    messages.push({ key: `k${i}`, value: `value-${i}`, partition: i % NP, headers: { seq: `${i}` } });
    perPart[i % NP]++;
  }
  const r1 = await producer.send({ topic, acks: -1, messages });
  check('producer (acks -1) sends 300 messages; every partition answers error 0',
    r1.length === NP && r1.every((r) => r.errorCode === 0), r1);
  const gz = [];
  for (let i = 0; i < 100; i++) {
    gz.push({ key: `g${i}`, value: `gzip-${i}`.repeat(20), partition: 1 });
  }
  perPart[1] += 100;
  const r2 = await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: gz });
  check('a gzip batch of 100 messages is accepted', r2.length === 1 && r2[0].errorCode === 0, r2);
  await producer.disconnect();

  const offs = await admin.fetchTopicOffsets(topic);
  offs.sort((a, b) => a.partition - b.partition);
  const want = perPart.map((n, p) => ({ partition: p, offset: `${n}`, high: `${n}`, low: '0' }));
  check(`fetchTopicOffsets shows what was written (${perPart.join(',')})`,
    JSON.stringify(offs) === JSON.stringify(want), offs);
  const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - 3600 * 1000);
  check('fetchTopicOffsetsByTimestamp(an hour ago) finds offset 0 in each partition',
    byTime.length === NP && byTime.every((p) => p.offset === '0'), byTime);
  await admin.disconnect();
}

main().then(
  () => process.exit(failed ? 1 : 0),
  (e) => {
    console.log(`not ok - kafkajs: the run ends without an exception (${e && e.name}: ${e && e.message})`);
    process.exit(1);
  },
);
