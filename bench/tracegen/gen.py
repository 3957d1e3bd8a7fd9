#!/usr/bin/env python3
"""Synthetic burn-down traces for backtesting Headroom's forecaster (stdlib only).

usage: gen.py --out DIR --seed N [--per-shape K] [--shapes all|orig|new|a,b,...]
              [--truth PATH] [--extend-days D] [--list]

Writes DIR/<shape>-<seed>-<k>.json in the format of bench/traces/README.md and DIR/truth.json
(name -> {"shape", "runaway_start"?, plus informational keys the scorer ignores}). Output depends
only on (seed, shape, k): adding shapes or raising --per-shape never changes existing traces.

--extend-days D writes the same traces continued D more days (same readings up to the normal end,
then more), to tell end-of-trace scoring artifacts from real forecaster errors. At most 30.
--oracle writes what each meter really did (full 15-min grid, no polling gaps, booking lag or
rounding), to tell what the readings showed from what happened (laptop, sparse, stale, tiny).
See README.md for what each shape models.
"""
import argparse
import bisect
import json
import math
import os
import random
from datetime import datetime, timezone

STEP = 900            # simulation grid, seconds (the originals poll every 15 min)
DAY = 86400
HOUR = 3600
SPD = DAY // STEP     # steps per day
EXT_DAYS = 30         # every trace is simulated this much past its end (for --extend-days)
UTC = timezone.utc


def iso(t):
    return datetime.fromtimestamp(int(round(t)), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def logu(rng, a, b):
    return math.exp(rng.uniform(math.log(a), math.log(b)))


def lognoise(rng, sigma):
    """Mean-one log-normal factor."""
    return math.exp(rng.gauss(0.0, sigma) - 0.5 * sigma * sigma) if sigma > 0 else 1.0


def dow_hour(t, tz_h=0.0):
    """(weekday 0=Mon, fractional hour) of epoch seconds t in a fixed UTC offset."""
    lt = t + tz_h * HOUR
    days = int(lt // DAY)
    return (days + 3) % 7, (lt % DAY) / HOUR


def pick_start(rng):
    """Midnight UTC on a day in Jan..Oct 2026, like the originals."""
    return int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) + rng.randrange(0, 290) * DAY


# ---------------------------------------------------------------- rhythms (t -> relative rate)

def flat_profile():
    return lambda t: 1.0


def office_profile(rng, tz_h=0.0, h0=None):
    """Office hours (10-12 h, 5-9x the off-hours rate), weekends at 15-30% of a weekday, like
    the originals' weekday/growth/launch/topups/monthly traces."""
    h0 = rng.randint(0, 15) if h0 is None else h0
    length = rng.randint(10, 12)
    ratio = rng.uniform(5.0, 9.0)
    weekend = rng.uniform(0.15, 0.3)

    def m(t):
        dow, hr = dow_hour(t, tz_h)
        on = (int(hr) - h0) % 24 < length
        return (ratio if on else 1.0) * (weekend if dow >= 5 else 1.0)
    return m


def hobby_profile(rng, tz_h):
    """Evenings on weekdays, long afternoons at weekends: the daily profile differs by weekday."""
    eve = rng.uniform(0.8, 1.2)
    wkend = rng.uniform(2.0, 4.0)
    night = 0.05

    def m(t):
        dow, hr = dow_hour(t, tz_h)
        if dow >= 5:
            return wkend if 10 <= hr < 24 else night
        return eve if 19 <= hr < 24 else night
    return m


def weekly_mean(prof, start):
    return sum(prof(start + i * STEP) for i in range(7 * SPD)) / (7 * SPD)


class Sim:
    """A trace being built on a 15-minute grid from `start`, `days` long (+ EXT_DAYS hidden)."""

    def __init__(self, rng, start, days):
        self.rng = rng
        self.start = start
        self.days = days
        self.end = start + int(days * DAY)                       # visible end (exclusive)
        self.n = int((days + EXT_DAYS) * SPD)                    # grid intervals
        self.extra_truth = {}

    def t(self, i):
        return self.start + i * STEP

    def idx(self, t):
        return int((t - self.start) // STEP)

    def demand(self, prof, level, sigma, day_sigma=0.0):
        """Per-interval spend: level(t) per day x normalised rhythm x noise."""
        mean = weekly_mean(prof, self.start)
        rng = self.rng
        day_f = {}
        out = []
        for i in range(self.n):
            t = self.t(i)
            x = level(t) / SPD * prof(t) / mean * lognoise(rng, sigma)
            if day_sigma:
                d = i // SPD
                if d not in day_f:
                    day_f[d] = lognoise(rng, day_sigma)
                x *= day_f[d]
            out.append(x)
        return out


def cumsum(xs):
    c, acc = [0.0], 0.0
    for x in xs:
        acc += x
        c.append(acc)
    return c


def balance_for_exhaustion(rng, demand, day_lo, day_hi, from_idx=0, min_left=0.0):
    """An amount that the spend from grid index from_idx uses up on a day in [day_lo, day_hi]
    (days since from_idx's day 0), at a point uniform in that day's burn."""
    c = cumsum(demand)
    d = rng.randint(int(day_lo), int(day_hi))
    a, b = c[min(len(c) - 1, d * SPD)], c[min(len(c) - 1, (d + 1) * SPD)]
    target = a + rng.uniform(0.02, 0.98) * (b - a)
    return max(target - c[from_idx], min_left)


def run_balance(demand, b0, policy=None):
    """Grid values of a prepaid balance: spend stops once at or below 0 (requests refused); the
    step that crosses 0 overshoots, like the originals. policy(i, rem) -> amount added at grid
    point i (top-ups, auto-recharge, refunds)."""
    v = [b0]
    rem = b0
    for i, d in enumerate(demand):
        if rem > 0:
            rem -= d
        if policy is not None:
            rem += policy(i + 1, rem)
        v.append(rem)
    return v


def run_budget(demand, rem0, limit, reset_idx):
    """Grid values of a budget that is refilled to `limit` at the grid points in reset_idx."""
    resets = set(reset_idx)
    v = [rem0]
    rem = rem0
    for i, d in enumerate(demand):
        if i + 1 in resets:
            rem = limit
        elif rem > 0:
            rem -= d
        v.append(rem)
    return v


def first_exhaustion(v, lo=0):
    for i in range(max(1, lo), len(v)):
        if v[i] <= 0 < v[i - 1]:
            return i
    return None


# ---------------------------------------------------------------- the shapes
# Each returns a dict: sim, values (grid), and optionally polls (epoch times), reported
# (t -> value, for stale meters), unit, kind, limit, interval_s, resets (epoch), quantum, truth.

MONEY = ["USD", "CNY", "credits"]


def _balance_shape(rng, prof, daily, sigma, exhaust_day, tail_days, day_sigma=0.0, start=None):
    days = exhaust_day[1] + 1 + rng.uniform(*tail_days)
    sim = Sim(rng, start if start is not None else pick_start(rng), days)
    dem = sim.demand(prof, lambda t: daily, sigma, day_sigma)
    b0 = balance_for_exhaustion(rng, dem, *exhaust_day)
    return sim, dem, b0


def shape_steady(rng, k):
    ex = rng.randint(20, 38)
    sim, dem, b0 = _balance_shape(rng, flat_profile(), logu(rng, 2, 50), 0.3, (ex, ex), (2, 25))
    return dict(sim=sim, values=run_balance(dem, b0))


def shape_weekday(rng, k):
    ex = rng.randint(20, 70)
    sim, dem, b0 = _balance_shape(rng, office_profile(rng), logu(rng, 3, 20), 0.37, (ex, ex), (2, 25))
    return dict(sim=sim, values=run_balance(dem, b0))


def shape_growth(rng, k):
    g = rng.uniform(0.015, 0.03)
    d0 = logu(rng, 1.0, 6.0)
    ex = rng.randint(60, 85)
    sim = Sim(rng, pick_start(rng), ex + 1 + rng.uniform(3, 10))
    dem = sim.demand(office_profile(rng), lambda t: d0 * math.exp(g * (t - sim.start) / DAY), 0.37)
    b0 = balance_for_exhaustion(rng, dem, ex, ex)
    return dict(sim=sim, values=run_balance(dem, b0), truth={"growth_per_day": round(g, 4)})


def shape_batch(rng, k):
    daily = logu(rng, 2, 15)
    hb = rng.randint(0, 23)
    share = rng.uniform(0.6, 0.8)
    ex = rng.randint(25, 50)
    sim = Sim(rng, pick_start(rng), ex + 1 + rng.uniform(3, 30))
    dem = sim.demand(flat_profile(), lambda t: daily * (1 - share), 0.4)
    w = [rng.uniform(0.2, 1.0) for _ in range(4)]
    for d in range(int(sim.n // SPD)):
        job = daily * share * lognoise(rng, 0.2)
        for j in range(4):
            i = d * SPD + hb * 4 + j
            if i < sim.n:
                dem[i] += job * w[j] / sum(w)
    b0 = balance_for_exhaustion(rng, dem, ex, ex)
    return dict(sim=sim, values=run_balance(dem, b0), truth={"batch_hour_utc": hb})


def shape_stepdown(rng, k):
    """Unlike bench/traces' stepdown (whose drop comes after the exhaustion), the drop here comes
    5-20 days before it, so the forecaster has to follow it."""
    daily = logu(rng, 10, 60)
    step_day = rng.uniform(10, 25)
    factor = rng.uniform(2.5, 8.0)
    ex = int(step_day) + rng.randint(5, 20)
    sim = Sim(rng, pick_start(rng), ex + 1 + rng.uniform(2, 20))
    t_step = sim.start + step_day * DAY
    prof = office_profile(rng) if rng.random() < 0.3 else flat_profile()
    dem = sim.demand(prof, lambda t: daily if t < t_step else daily / factor, 0.33)
    b0 = balance_for_exhaustion(rng, dem, ex, ex)
    return dict(sim=sim, values=run_balance(dem, b0),
                truth={"step_at": iso(t_step), "step_factor": round(1 / factor, 3)})


def shape_launch(rng, k):
    q = logu(rng, 0.3, 0.8)
    launch = rng.uniform(20, 45)
    pre = rng.uniform(1.5, 3.0)
    f1, f2 = rng.uniform(8, 15), rng.uniform(40, 80)
    ex = int(launch + pre) + rng.randint(6, 16)
    sim = Sim(rng, pick_start(rng), ex + 1 + rng.uniform(2, 10))
    t1, t2 = sim.start + launch * DAY, sim.start + (launch + pre) * DAY
    lvl = lambda t: q if t < t1 else (q * f1 if t < t2 else q * f2)
    dem = sim.demand(office_profile(rng), lvl, 0.37)
    b0 = balance_for_exhaustion(rng, dem, ex, ex)
    return dict(sim=sim, values=run_balance(dem, b0), truth={"launch_at": iso(t1), "full_at": iso(t2)})


def shape_noisy(rng, k):
    ex = rng.randint(20, 35)
    sim, dem, b0 = _balance_shape(rng, flat_profile(), logu(rng, 1.5, 20), 1.2, (ex, ex), (2, 25))
    return dict(sim=sim, values=run_balance(dem, b0))


def _burst(rng, k, stops):
    daily = logu(rng, 3, 25)
    prof = office_profile(rng)
    b_day = rng.uniform(20, 60) if not stops else rng.uniform(15, 35)
    mult = logu(rng, 6, 60)
    days = b_day + (rng.uniform(3, 30) if not stops else rng.uniform(10, 25))
    sim = Sim(rng, pick_start(rng), days)
    dem = sim.demand(prof, lambda t: daily, 0.37)
    s = int(b_day * SPD)
    dur = sim.n if not stops else int(rng.uniform(1, 6) * 4)
    for i in range(s, min(sim.n, s + dur)):
        dem[i] = daily / SPD * mult * lognoise(rng, 0.3)
    truth = {}
    if not stops:
        # remaining at the start: what the runaway eats in 3-10 h
        hours = rng.uniform(3, 10)
        c = cumsum(dem)
        e = s + max(1, int(hours * 4))
        b0 = c[e] - rng.uniform(0.02, 0.98) * dem[e - 1]
        truth["runaway_start"] = iso(sim.t(s))
        truth["runaway_mult"] = round(mult, 1)
    else:
        ex_day = int(b_day + (dur / SPD)) + rng.randint(6, int(days - b_day) - 2)
        b0 = balance_for_exhaustion(rng, dem, ex_day, ex_day)
        truth.update(burst_start=iso(sim.t(s)), burst_end=iso(sim.t(s + dur)), burst_mult=round(mult, 1))
    return dict(sim=sim, values=run_balance(dem, b0), truth=truth)


def shape_runaway(rng, k):
    return _burst(rng, k, stops=False)


def shape_selfstop(rng, k):
    return _burst(rng, k, stops=True)


class Topups:
    """A person adds credit: mostly late (2-20 h after running out), sometimes on time (below
    0.5-2.5 days of spend). The first cycle is always late so every trace has an exhaustion."""

    def __init__(self, rng, daily, p_on_time, first_late=True):
        self.rng, self.daily, self.p = rng, daily, p_on_time
        self.wait = None
        self._new_cycle(force_late=first_late)
        self.events = []

    def _new_cycle(self, force_late=False):
        on_time = (not force_late) and self.rng.random() < self.p
        self.threshold = self.daily * self.rng.uniform(0.5, 2.5) if on_time else None

    def __call__(self, i, rem):
        if rem <= 0:
            if self.wait is None:
                self.wait = i + int(self.rng.uniform(2, 20) * 4)
            if i < self.wait:
                return 0.0
        elif self.threshold is None or rem >= self.threshold:
            return 0.0
        self.wait = None
        amount = self.daily * self.rng.uniform(5, 12)
        self.events.append(i)
        self._new_cycle()
        return amount


def shape_topups(rng, k):
    daily = logu(rng, 2, 15)
    ex = rng.randint(20, 45)
    sim = Sim(rng, pick_start(rng), ex + 1 + rng.uniform(15, 25))
    dem = sim.demand(office_profile(rng), lambda t: daily, 0.37)
    b0 = balance_for_exhaustion(rng, dem, ex, ex)
    return dict(sim=sim, values=run_balance(dem, b0, Topups(rng, daily, 0.35)))


def month_starts(t0, t1):
    """Month starts from the one at or before t0 to the first after t1."""
    d = datetime.fromtimestamp(t0, UTC)
    y, m = d.year, d.month
    out = [int(datetime(y, m, 1, tzinfo=UTC).timestamp())]
    while out[-1] <= t1:
        m += 1
        if m > 12:
            y, m = y + 1, 1
        out.append(int(datetime(y, m, 1, tzinfo=UTC).timestamp()))
    return out


def _budget_shape(rng, k, cycle_fn, days_rng, ratio_rng, limit_rng, smooth=None):
    """A budget refilled to its limit at scheduled resets. Each cycle has its own appetite: a
    ratio of the limit it would spend if nothing stopped it (> 1: it runs out before the reset).
    With smooth=(walk_sigma_per_day, day_sigma) the appetite is one ratio for the whole trace and
    the level wanders instead (a log random walk plus day-to-day noise), unrelated to the resets.
    Redrawn until at least one cycle runs out in the visible trace after the first 3.5 days."""
    for attempt in range(200):
        limit = round(logu(rng, *limit_rng), 2)
        sim = Sim(rng, pick_start(rng), rng.uniform(*days_rng))
        b = sorted(cycle_fn(sim))
        b = [x for x in b if x <= sim.start][-1:] + [x for x in b if x > sim.start]
        ratios = [rng.uniform(*ratio_rng) for _ in b]
        walk, day_sigma = [0.0], 0.0
        if smooth:
            ratios = [ratios[0]] * len(b)
            day_sigma = smooth[1]
            for _ in range(int(sim.n // SPD) + 2):
                walk.append(max(-0.5, min(0.5, walk[-1] + rng.gauss(0, smooth[0]))))
        prof = office_profile(rng)

        def level(t):
            j = min(max(bisect.bisect_right(b, t) - 1, 0), len(b) - 2)
            w = walk[min(len(walk) - 1, int((t - sim.start) // DAY))] if smooth else 0.0
            return ratios[j] * limit * DAY / (b[j + 1] - b[j]) * math.exp(w)
        dem = sim.demand(prof, level, 0.37, day_sigma)
        # the first cycle began before the trace: it has spent its share so far
        rem0 = limit * max(0.05, 1 - ratios[0] * (sim.start - b[0]) / (b[1] - b[0]))
        reset_idx = [sim.idx(x) for x in b[1:] if x <= sim.t(sim.n)]
        v = run_budget(dem, rem0, limit, reset_idx)
        e = first_exhaustion(v, lo=int(3.5 * SPD))
        if e is not None and sim.t(e) < sim.end - DAY:
            return dict(sim=sim, values=v, kind="budget", limit=limit, resets=b[1:],
                        truth={"cycle_ratios": [round(r, 2) for r in ratios][:12]})
    raise RuntimeError("no budget exhaustion found")


def shape_monthly(rng, k):
    return _budget_shape(rng, k, lambda sim: month_starts(sim.start, sim.t(sim.n)),
                         (40, 80), (0.75, 1.35), (100, 2000))


def shape_weeklybudget(rng, k):
    dow_reset = 0 if rng.random() < 0.7 else rng.randint(1, 6)

    def cycles(sim):
        t = sim.start - (dow_hour(sim.start)[0] - dow_reset) % 7 * DAY
        return [t + w * 7 * DAY for w in range(int(sim.n // (7 * SPD)) + 3)]
    return _budget_shape(rng, k, cycles, (35, 70), (0.85, 1.2), (20, 500), smooth=(0.05, 0.15))


def shape_dailybudget(rng, k):
    hr = rng.choice([0, 0, 7, 8])

    def cycles(sim):
        return [sim.start + hr * HOUR + d * DAY for d in range(-1, int(sim.n // SPD) + 2)]
    return _budget_shape(rng, k, cycles, (21, 45), (0.8, 1.1), (2, 100), smooth=(0.05, 0.2))


# ---- new shapes

def laptop_polls(rng, sim, tz_h):
    """Readings only while the laptop is on: weekday office hours (local time), irregular poll
    intervals, a lunch sleep now and then, some days off and 1-2 multi-day gaps."""
    gaps = []
    for _ in range(rng.randint(1, 2)):
        g0 = sim.start + rng.uniform(8, max(9, sim.days - 4)) * DAY
        gaps.append((g0, g0 + rng.uniform(2, 5) * DAY))
    polls = []
    day0 = int((sim.start + tz_h * HOUR) // DAY)
    for d in range(int(sim.days + EXT_DAYS) + 1):
        local_midnight = (day0 + d) * DAY - tz_h * HOUR
        dow = (day0 + d + 3) % 7
        sessions = []
        if dow >= 5:
            if rng.random() < 0.15:
                s = local_midnight + rng.uniform(10, 20) * HOUR
                sessions.append((s, s + rng.uniform(0.5, 3) * HOUR))
        elif rng.random() > 0.08:
            on = local_midnight + rng.uniform(7.5, 10) * HOUR
            off = local_midnight + rng.uniform(16.5, 20.5) * HOUR
            if rng.random() < 0.5:
                l0 = local_midnight + rng.uniform(12, 13.5) * HOUR
                sessions += [(on, l0), (l0 + rng.uniform(0.75, 1.5) * HOUR, off)]
            else:
                sessions.append((on, off))
        for s, e in sessions:
            t = s
            while t < e:
                if t >= sim.start and not any(a <= t < b for a, b in gaps):
                    polls.append(int(t))
                t += rng.uniform(600, 1300)
    polls = sorted(set(p for p in polls if p >= sim.start))
    return polls


def shape_laptop(rng, k):
    tz = rng.choice([-8, -7, -5, -4, 0, 1, 2, 5.5, 8, 9])
    daily = logu(rng, 2, 20)
    background = rng.uniform(0.0, 0.5)    # share of spend from a 24/7 server
    office = office_profile(rng, tz_h=tz, h0=9)
    om = weekly_mean(office, 0)
    prof = lambda t: (1 - background) * office(t) / om + background
    ex = rng.randint(20, 45)
    sim = Sim(rng, pick_start(rng), ex + 1 + rng.uniform(3, 15))
    dem = sim.demand(prof, lambda t: daily, 0.4, day_sigma=0.15)
    b0 = balance_for_exhaustion(rng, dem, ex, ex)
    polls = laptop_polls(rng, sim, tz)
    return dict(sim=sim, values=run_balance(dem, b0), polls=polls,
                truth={"tz": tz, "background_share": round(background, 2)})


def shape_sparse(rng, k):
    interval = rng.choice([3600, 3600, 10800, 21600])
    base = rng.choice(["steady", "weekday", "batch"])
    daily = logu(rng, 2, 30)
    ex = rng.randint(20, 50)
    sim = Sim(rng, pick_start(rng), ex + 1 + rng.uniform(3, 15))
    prof = office_profile(rng) if base == "weekday" else flat_profile()
    dem = sim.demand(prof, lambda t: daily, 0.37 if base != "steady" else 0.3, day_sigma=0.1)
    if base == "batch":
        hb = rng.randint(0, 23)
        for d in range(sim.n // SPD):
            dem[d * SPD + hb * 4 + rng.randint(0, 3)] += 2.5 * daily * lognoise(rng, 0.2)
    b0 = balance_for_exhaustion(rng, dem, ex, ex)
    off = rng.randrange(0, interval // STEP) * STEP
    polls = list(range(sim.start + off, sim.t(sim.n), interval))
    return dict(sim=sim, values=run_balance(dem, b0), polls=polls, interval_s=interval,
                truth={"base": base, "interval_s": interval})


class AutoRecharge:
    """Recharge by `amount` when the balance drops below `threshold`; optionally the card fails
    once (from grid index fail_at on, until `fixed_after` steps of being at or below 0)."""

    def __init__(self, rng, threshold, amount, fail_at=None):
        self.rng, self.threshold, self.amount, self.fail_at = rng, threshold, amount, fail_at
        self.failed_since = None
        self.fail_events = []

    def __call__(self, i, rem):
        if rem >= self.threshold:
            return 0.0
        if self.fail_at is not None and i >= self.fail_at:
            if rem > 0:
                return 0.0
            if self.failed_since is None:
                self.failed_since = i
                self.fix_at = i + int(self.rng.uniform(3, 48) * 4)
                self.fail_events.append(i)
            if i < self.fix_at:
                return 0.0
            self.fail_at = None
        return self.amount * self.rng.uniform(0.95, 1.05)


def shape_autorecharge(rng, k):
    daily = logu(rng, 2, 30)
    threshold = daily * rng.uniform(0.5, 3)
    amount = daily * rng.uniform(3, 15)
    card_fails = k % 2 == 1          # alternate: never runs out / the card fails once
    fail_day = rng.uniform(12, 35)
    # long enough after the failure for the last recharge to be spent (day-to-day noise aside)
    days = max(rng.uniform(30, 60), fail_day + (threshold + 1.05 * amount) / daily * 1.3 + 4) if card_fails \
        else rng.uniform(30, 60)
    sim = Sim(rng, pick_start(rng), days)
    prof = office_profile(rng) if rng.random() < 0.6 else flat_profile()
    dem = sim.demand(prof, lambda t: daily, 0.37, day_sigma=0.15)
    fail_at = int(fail_day * SPD) if card_fails else None
    pol = AutoRecharge(rng, threshold, amount, fail_at)
    v = run_balance(dem, threshold + amount * rng.uniform(0.3, 1.0), pol)
    truth = {"card_fails": card_fails}
    if pol.fail_events:
        truth["card_failed_out_at"] = iso(sim.t(pol.fail_events[0]))
    return dict(sim=sim, values=v, truth=truth)


def shape_winddown(rng, k):
    daily = logu(rng, 3, 30)
    start_day = rng.uniform(14, 30)
    floor = rng.uniform(0.005, 0.03)
    expo = rng.random() < 0.6
    hl, ramp = rng.uniform(2, 8), rng.uniform(5, 15)
    sim = Sim(rng, pick_start(rng), start_day + rng.uniform(20, 40))
    t0 = sim.start + start_day * DAY

    def lvl(t):
        if t < t0:
            return daily
        x = (t - t0) / DAY
        f = 0.5 ** (x / hl) if expo else max(0.0, 1 - x / ramp)
        return daily * max(f, floor)
    dem = sim.demand(office_profile(rng) if rng.random() < 0.6 else flat_profile(), lvl, 0.37)
    c = cumsum(dem)
    s = sim.idx(t0)
    future = c[-1] - c[s]
    b0 = c[s] + future * rng.uniform(1.3, 2.5)
    return dict(sim=sim, values=run_balance(dem, b0),
                truth={"decline_start": iso(t0), "decline": ("half-life %.1f d" % hl) if expo else ("linear %.1f d" % ramp),
                       "days_left_at_old_rate": round((b0 - c[s]) / daily, 1)})


def shape_stale(rng, k):
    """The provider's figure lags: it moves only when usage is booked (every 1-8 h), small
    refunds/corrections push it up, it is rounded to cents, and 1% of polls serve the previous
    booked figure again (a cache)."""
    daily = logu(rng, 3, 30)
    ex = rng.randint(20, 45)
    sim = Sim(rng, pick_start(rng), ex + 1 + rng.uniform(3, 15))
    prof = office_profile(rng) if rng.random() < 0.6 else flat_profile()
    dem = sim.demand(prof, lambda t: daily, 0.37, day_sigma=0.1)
    b0 = balance_for_exhaustion(rng, dem, ex, ex)
    refunds = {}
    i = 0
    while i < sim.n:
        i += int(rng.uniform(2, 7) * SPD)
        refunds[i] = daily * rng.uniform(0.02, 0.15)
    v = run_balance(dem, b0, lambda i, rem: refunds.get(i, 0.0) if rem > 0 else 0.0)
    lag_hours = rng.uniform(1, 8)
    updates = [sim.start]
    while updates[-1] < sim.t(sim.n):
        updates.append(updates[-1] + int(rng.uniform(0.25, 1.75) * lag_hours * 4) * STEP + STEP)
    cache = set(i for i in range(sim.n) if rng.random() < 0.01)

    def reported(t):
        j = bisect.bisect_right(updates, t) - 1
        if sim.idx(t) in cache and j > 0 and v[min(len(v) - 1, sim.idx(updates[j]))] > 0:
            j -= 1
        return v[min(len(v) - 1, sim.idx(updates[j]))]
    return dict(sim=sim, values=v, reported=reported, quantum=0.01,
                truth={"booking_lag_h": round(lag_hours, 1)})


def shape_tokens(rng, k):
    """A prepaid token quota in the millions, integer readings."""
    ex = rng.randint(20, 50)
    sim, dem, b0 = _balance_shape(rng, office_profile(rng), logu(rng, 2e5, 5e6), 0.5, (ex, ex), (2, 15),
                                  day_sigma=0.15)
    return dict(sim=sim, values=run_balance(dem, b0), unit="tokens", quantum=1)


def shape_tiny(rng, k):
    """A balance under 1 (a trial credit, or almost empty), sometimes shown only to the cent."""
    ex = rng.randint(20, 40)
    daily = rng.uniform(0.3, 0.95) / ex
    sim, dem, b0 = _balance_shape(rng, flat_profile() if rng.random() < 0.5 else office_profile(rng),
                                  daily, 0.5, (ex, ex), (2, 15), day_sigma=0.15)
    q = rng.choice([1e-6, 1e-4, 0.01])
    return dict(sim=sim, values=run_balance(dem, min(b0, 0.99)), unit="USD", quantum=q,
                truth={"quantum": q})


def shape_holiday(rng, k):
    daily = logu(rng, 3, 20)
    h0 = rng.uniform(14, 30)
    hlen = rng.uniform(7, 12)
    quiet = rng.uniform(0.0, 0.03)
    ex = int(h0 + hlen) + rng.randint(4, 15)
    sim = Sim(rng, pick_start(rng), ex + 1 + rng.uniform(3, 15))
    a, b = sim.start + h0 * DAY, sim.start + (h0 + hlen) * DAY
    dem = sim.demand(office_profile(rng), lambda t: daily * (quiet if a <= t < b else 1.0), 0.37, day_sigma=0.1)
    b0 = balance_for_exhaustion(rng, dem, ex, ex)
    return dict(sim=sim, values=run_balance(dem, b0), truth={"holiday": [iso(a), iso(b)]})


def shape_mixed(rng, k):
    daily = logu(rng, 3, 20)
    g = rng.uniform(0.005, 0.015)
    step_day = rng.uniform(12, 35)
    f = rng.uniform(1.6, 2.5) if rng.random() < 0.5 else rng.uniform(0.4, 0.6)
    ex = max(int(step_day) + 3, rng.randint(25, 45))
    sim = Sim(rng, pick_start(rng), ex + 1 + rng.uniform(15, 30))
    ts = sim.start + step_day * DAY
    lvl = lambda t: daily * math.exp(g * (t - sim.start) / DAY) * (f if t >= ts else 1.0)
    dem = sim.demand(office_profile(rng), lvl, 0.4, day_sigma=0.15)
    b0 = balance_for_exhaustion(rng, dem, ex, ex)
    return dict(sim=sim, values=run_balance(dem, b0, Topups(rng, daily * 1.5, 0.5)),
                truth={"step_at": iso(ts), "step_factor": round(f, 2), "growth_per_day": round(g, 4)})


def shape_hobby(rng, k):
    tz = rng.choice([-8, -5, 0, 1, 8])
    ex = rng.randint(20, 50)
    sim, dem, b0 = _balance_shape(rng, hobby_profile(rng, tz), logu(rng, 1, 10), 0.5, (ex, ex), (2, 15),
                                  day_sigma=0.3)
    return dict(sim=sim, values=run_balance(dem, b0), truth={"tz": tz})


def shape_intermittent(rng, k):
    """Jobs every 1.5-4 days at random, 1-6 h each, no weekly pattern; a trickle in between."""
    daily = logu(rng, 3, 30)
    gap = rng.uniform(1.5, 4)
    ex = rng.randint(20, 50)
    sim = Sim(rng, pick_start(rng), ex + 1 + rng.uniform(3, 15))
    dem = sim.demand(flat_profile(), lambda t: daily * 0.03, 0.5)
    t = rng.uniform(0, gap) * DAY
    jobs = 0
    while t < sim.n * STEP:
        dur = int(rng.uniform(1, 6) * 4)
        size = daily * gap * 0.97 * lognoise(rng, 0.5)
        i0 = int(t // STEP)
        for i in range(i0, min(sim.n, i0 + dur)):
            dem[i] += size / dur * lognoise(rng, 0.3)
        jobs += 1
        t += rng.expovariate(1 / (gap * DAY))
    b0 = balance_for_exhaustion(rng, dem, ex, ex)
    return dict(sim=sim, values=run_balance(dem, b0), truth={"mean_gap_days": round(gap, 1)})


ORIG = ["steady", "weekday", "growth", "batch", "stepdown", "launch", "noisy", "runaway", "topups", "monthly"]
NEW = ["laptop", "sparse", "autorecharge", "winddown", "selfstop", "stale", "tokens", "tiny",
       "weeklybudget", "dailybudget", "holiday", "mixed", "hobby", "intermittent"]
SHAPES = {name: globals()["shape_" + name] for name in ORIG + NEW}


# ---------------------------------------------------------------- output

def quantize(x, q):
    if q == 1:
        return float(round(x))
    if q >= 1e-6:
        return round(round(x / q) * q, 6)
    return round(x, 6)


def value_at(sim, v, t):
    """Grid values interpolated within a 15-min interval (spend is even inside one); an increase
    (top-up, reset) shows only from its grid point on."""
    x = (t - sim.start) / STEP
    i = int(x)
    if i >= len(v) - 1:
        return v[-1]
    a, b = v[i], v[i + 1]
    frac = x - i
    if frac == 0 or b > a:
        return a
    return a + (b - a) * frac


def build(seed, shape, k, extend_days=0, oracle=False):
    rng = random.Random("headroom-tracegen:%d:%s:%d" % (seed, shape, k))
    spec = SHAPES[shape](rng, k)
    sim = spec["sim"]
    end = sim.end + int(min(extend_days, EXT_DAYS) * DAY)
    q = spec.get("quantum", 1e-6)
    polls = spec.get("polls")
    if oracle:
        # what the meter really did: every 15 min, no gaps, no booking lag, no rounding
        polls, q, spec["reported"] = None, 1e-6, None
    if polls is None:
        polls = [sim.t(i) for i in range(sim.n + 1)]
    get = spec.get("reported") or (lambda t: value_at(sim, spec["values"], t))
    readings = [[iso(t), quantize(get(t), q)] for t in polls if t < end]
    resets = spec.get("resets", [])
    shown, after = [], 0
    for r in sorted(resets):
        if r <= sim.start:
            continue
        if r >= end:
            after += 1
            if after > 1:
                break
        shown.append(iso(r))
    name = "%s-%d-%02d" % (shape, seed, k)
    doc = {"name": name, "unit": spec.get("unit", rng.choice(MONEY)),
           "kind": spec.get("kind", "balance"), "limit": spec.get("limit"),
           "interval_s": spec.get("interval_s", 900), "resets": shown, "readings": readings}
    truth = {"shape": shape}
    truth.update(spec.get("truth", {}))
    return doc, truth


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-shape", type=int, default=2)
    ap.add_argument("--shapes", default="all", help="all | orig | new | comma-separated names")
    ap.add_argument("--truth", help="where to write truth.json (default OUT/truth.json)")
    ap.add_argument("--extend-days", type=float, default=0.0)
    ap.add_argument("--oracle", action="store_true",
                    help="sample every meter on the full 15-min grid (no gaps, lag or rounding): what really happened")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list:
        print("orig:", " ".join(ORIG))
        print("new: ", " ".join(NEW))
        return
    if not a.out:
        ap.error("--out is required")
    names = {"all": ORIG + NEW, "orig": ORIG, "new": NEW}.get(a.shapes) or a.shapes.split(",")
    for n in names:
        if n not in SHAPES:
            ap.error("unknown shape %r (have: %s)" % (n, ", ".join(SHAPES)))
    os.makedirs(a.out, exist_ok=True)
    truth = {}
    for shape in names:
        for k in range(a.per_shape):
            doc, tr = build(a.seed, shape, k, a.extend_days, a.oracle)
            with open(os.path.join(a.out, doc["name"] + ".json"), "w") as f:
                json.dump(doc, f, separators=(",", ":"))
            truth[doc["name"]] = tr
    with open(a.truth or os.path.join(a.out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
