import * as assert from 'uvu/assert';
import { suite } from '../kit.js';
import {
  CONSUMER_STATES, ConsumerState, ConsumerStateMachine, StateTransitionError, isTransitionAllowed,
} from '../../src/channels/state.js';

const s = suite('consumer-state', { timeoutMs: 5_000 });

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** dp-kafka's transitions, written out independently of the table in state.ts. */
const allowed: Record<string, string[]> = {
  Initialising: ['Stopped', 'Starting', 'Closing'],
  Stopped: ['Starting', 'Closing'],
  Starting: ['Consuming', 'Stopping', 'Closing'],
  Consuming: ['Starting', 'Stopping', 'Closing'],
  Stopping: ['Stopped', 'Closing'],
  Closing: [],
};

/** A path from Initialising to each state, using only allowed steps. */
const pathTo: Record<string, ConsumerState[]> = {
  Initialising: [],
  Stopped: ['Stopped'],
  Starting: ['Starting'],
  Consuming: ['Starting', 'Consuming'],
  Stopping: ['Starting', 'Stopping'],
  Closing: ['Closing'],
};

function machineIn(state: ConsumerState): ConsumerStateMachine {
  const m = new ConsumerStateMachine();
  for (const st of pathTo[state]!) m.transition(st);
  assert.is(m.state, state);
  return m;
}

s('names and order are dp-kafka\'s', () => {
  assert.equal([...CONSUMER_STATES], ['Initialising', 'Stopped', 'Starting', 'Consuming', 'Stopping', 'Closing']);
  assert.is(new ConsumerStateMachine().state, 'Initialising');
  assert.is(String(new ConsumerStateMachine()), 'Initialising');
});

for (const from of CONSUMER_STATES) {
  for (const to of CONSUMER_STATES) {
    if (from === to) continue;
    const ok = allowed[from]!.includes(to);
    s(`${from} → ${to} is ${ok ? 'allowed' : 'refused'}`, () => {
      assert.is(isTransitionAllowed(from, to), ok);
      const m = machineIn(from);
      const before = m.channel(to);
      if (ok) {
        m.transition(to);
        assert.is(m.state, to);
        assert.ok(m.channel(to).closed, 'new state signal is closed');
        assert.not.ok(m.channel(from).closed, 'old state signal is open again');
      } else {
        const err = (() => {
          try {
            m.transition(to);
          } catch (e) {
            return e;
          }
          return undefined;
        })();
        assert.instance(err, StateTransitionError);
        assert.is((err as StateTransitionError).code, 'ERR_KAFKA_STATE_TRANSITION');
        assert.is(m.state, from, 'state unchanged');
        assert.is(m.channel(to), before, 'signal untouched');
        assert.not.ok(m.channel(to).closed);
        assert.ok(m.channel(from).closed);
        // tryTransition reports the same refusal without throwing
        assert.is(m.tryTransition(to), false);
        assert.is(m.state, from);
      }
    });
  }
}

s('staying in a state is a no-op, except Closing → Closing', () => {
  const m = machineIn('Consuming');
  const ch = m.channel('Consuming');
  m.transition('Consuming');
  assert.is(m.channel('Consuming'), ch);
  assert.ok(ch.closed);
  const c = machineIn('Closing');
  assert.throws(() => c.transition('Closing'), (e: unknown) => e instanceof StateTransitionError);
  assert.is(c.tryTransition('Closing'), false);
});

s('transition with a from-list refuses when the current state is not in it (dp-kafka SetIf)', () => {
  const m = machineIn('Starting');
  assert.throws(() => m.transition('Stopping', ['Consuming']), /expected to be in Consuming/);
  assert.is(m.state, 'Starting');
  assert.is(m.tryTransition('Consuming', ['Starting', 'Consuming']), true);
  assert.is(m.state, 'Consuming');
  assert.is(m.tryTransition('Starting', ['Stopped']), false);
  assert.is(m.state, 'Consuming');
});

s('exactly one state signal is closed at any time, through a full life-cycle', () => {
  const m = new ConsumerStateMachine();
  const seq: ConsumerState[] = ['Starting', 'Consuming', 'Starting', 'Consuming', 'Stopping', 'Stopped', 'Starting', 'Closing'];
  const check = (): void => {
    const closed = CONSUMER_STATES.filter((st) => m.channels[st].closed);
    assert.equal(closed, [m.state]);
  };
  check();
  for (const st of seq) {
    m.transition(st);
    check();
  }
});

s('the channels view is live: getters return the current signal', () => {
  const m = new ConsumerStateMachine();
  const first = m.channels.Stopped;
  m.transition('Stopped');
  assert.is(m.channels.Stopped, first);
  assert.ok(first.closed);
  m.transition('Starting');
  assert.is.not(m.channels.Stopped, first, 'left state gets a fresh channel');
  assert.not.ok(m.channels.Stopped.closed);
  assert.ok(first.closed, 'the old one stays closed');
});

s('wait resolves at once in the state, and when the state is entered later', async () => {
  const m = new ConsumerStateMachine();
  await m.wait('Initialising');
  let consuming = false;
  const p = m.wait('Consuming').then(() => {
    consuming = true;
  });
  m.transition('Starting');
  await settle();
  assert.is(consuming, false);
  m.transition('Consuming');
  await p;
  assert.is(consuming, true);
});

s('wait counts a state that was entered and left before the waiter ran', async () => {
  const m = machineIn('Starting');
  const p = m.wait('Consuming');
  m.transition('Consuming');
  m.transition('Starting');
  await p; // would hang if entering did not count
  assert.is(m.state, 'Starting');
});

s('wait rejects with the signal reason on abort', async () => {
  const m = new ConsumerStateMachine();
  const ac = new AbortController();
  const p = m.wait('Consuming', ac.signal);
  ac.abort(new Error('gave up'));
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.is((err as Error).message, 'gave up');
});

s('onChange listeners see every change with its origin, and can be removed', () => {
  const m = new ConsumerStateMachine();
  const seen: string[] = [];
  const off = m.onChange((to, from) => seen.push(`${from}>${to}`));
  m.transition('Stopped');
  m.transition('Stopped'); // no-op, no event
  m.transition('Starting');
  off();
  m.transition('Consuming');
  assert.equal(seen, ['Initialising>Stopped', 'Stopped>Starting']);
});

s.run();
