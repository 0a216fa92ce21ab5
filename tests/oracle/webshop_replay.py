#!/usr/bin/env python3
"""Replay our trajectory records in WebShop's own text environment and compare, step by step,
the observation and the valid-action list (docs/webshop.md, section 2).

WebShop's code is the oracle, used from a checkout of princeton-nlp/WebShop (--webshop, the
directory holding web_agent_site/) with Flask and BeautifulSoup installed; it is never part of
the pipeline. Its heavy parts are stubbed: the search engine answers with our own engine's top 50
(webshop-env's "search", whose parity with Anserini tests/oracle/search.mk checks), the reward
(spaCy) with the reward our record reports, and gym/torch/pyserini/... with empty modules.

The page each episode ends on (the done page after Buy Now) is compared too, replayed in our
webshop-env (goal_id: the records must come from `goals` with its default seed and catalog).

WebShop's valid actions are what its baseline agent offers: search when the page has a search
bar, else click[x] for every clickable but "search". A search step is replayed as WebShop would
run it (on any page).

  webshop_replay.py --webshop DIR --env bin/webshop-env [--data DIR] [--show N] [--detour] TRAJ.jsonl ...
--detour replays each episode with a search typed at a random later step (on a results, item or
sub-page, where agents never see it offered but WebShop runs it) and the rest of its actions as
played, comparing our webshop-env and WebShop live at every step.
Prints per-kind mismatch counts: episodes with an observation difference, with a valid-action
difference, and the first difference of the first N such episodes.
"""
import argparse
import json
import random
import subprocess
import sys
import types


def stub_modules():
    """Empty stand-ins for the modules WebShop imports but the text environment never needs."""
    class Anything(types.ModuleType):
        def __getattr__(self, name):
            if name.startswith('__'):
                raise AttributeError(name)
            return lambda *a, **k: None

    for name in ['torch', 'numpy', 'cleantext', 'rank_bm25', 'pyserini', 'pyserini.search',
                 'pyserini.search.lucene', 'spacy', 'thefuzz', 'thefuzz.fuzz', 'tqdm', 'rich',
                 'gym']:
        sys.modules[name] = Anything(name)
    sys.modules['gym'].Env = object
    sys.modules['tqdm'].tqdm = lambda x, **k: x
    sys.modules['rich'].print = lambda *a, **k: None


def read_records(paths):
    for path in paths:
        cmd = ['zstdcat', '-f', path] if path != '-' else ['cat']
        out = subprocess.run(cmd, check=True, capture_output=True).stdout.decode()
        for line in out.splitlines():
            if line.strip():
                yield json.loads(line)


def load_products(data):
    out = subprocess.run(['zstdcat', '-f', f'{data}/products.jsonl.zst'], check=True,
                         capture_output=True).stdout.decode()
    return {p['asin']: p for p in (json.loads(l)['product'] for l in out.splitlines() if l.strip())}


class OurEnv:
    """Our environment through webshop-env's JSON-lines service: its engine's ranking, and the
    observation an episode ends on (the records keep those before each action only)."""
    def __init__(self, env_bin, data):
        args = [env_bin, '-q'] + (['-d', data] if data else [])
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, request):
        self.proc.stdin.write(json.dumps(request) + '\n')
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if not answer.get('ok'):
            sys.exit(f'webshop_replay: webshop-env failed on {request}: {answer}')
        return answer

    def search(self, query):
        return self.ask({'op': 'search', 'query': query})['asins']

    def last_observation(self, goal_id, mode, actions):
        answer = self.ask({'op': 'reset', 'goal_id': goal_id, 'obs': mode, 'max_steps': len(actions) + 1})
        for action in actions:
            answer = self.ask({'op': 'step', 'action': action})
        return answer['observation']

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--webshop', required=True)
    ap.add_argument('--env', required=True)
    ap.add_argument('--data', default=None)
    ap.add_argument('--show', type=int, default=3)
    ap.add_argument('--dump', action='store_true', help="print WebShop's observations and actions")
    ap.add_argument('--detour', action='store_true',
                    help='replay each episode with a search typed at a random later step (seeded by the goal), '
                         'comparing both environments live')
    ap.add_argument('traj', nargs='+')
    a = ap.parse_args()

    stub_modules()
    sys.path.insert(0, a.webshop)
    # the package's __init__ would import the Selenium environment too: skip it
    envs = types.ModuleType('web_agent_site.envs')
    envs.__path__ = [f'{a.webshop}/web_agent_site/envs']
    sys.modules['web_agent_site.envs'] = envs
    import web_agent_site.envs.web_agent_text_env as wte

    products = load_products(a.data or '../shared/webshop-1k')
    ours = OurEnv(a.env, a.data)
    wte.get_top_n_product_from_keywords = \
        lambda keywords, engine, all_products, item_dict: [item_dict[x] for x in ours.search(' '.join(keywords))]
    current = {}
    wte.get_reward = lambda *args, **kw: (current['reward'], None)

    server = wte.SimServer.__new__(wte.SimServer)
    server.base_url = 'http://127.0.0.1:3000'
    server.product_item_dict = products
    server.all_products = list(products.values())
    server.product_prices = {}
    server.search_engine = None
    server.show_attrs = False
    server.assigned_instruction_text = None
    server.search_time = server.render_time = server.sample_time = 0
    server.cum_weights = [0, 1]

    episodes = obs_bad = act_bad = shown = 0
    mode = None
    for rec in read_records(a.traj):
        episodes += 1
        current['reward'] = rec.get('reward', 0.0)
        server.goals = [{'instruction_text': rec['instruction'], 'asin': rec.get('asin')}]
        server.user_sessions = {}
        actions = [x['action'] for x in rec['steps']]
        step_mode = 'text' if ' [SEP] ' in rec['steps'][0]['obs'] else 'text_rich'
        mode = mode or step_mode
        if a.detour:
            # a search typed on another page than the search page, then the rest as played
            k = random.Random(rec['goal_id']).randrange(1, len(actions) + 1)
            actions.insert(k, 'search[' + ' '.join(rec['instruction'].split()[:3]) + ']')
            live = ours.ask({'op': 'reset', 'goal_id': rec['goal_id'], 'obs': step_mode,
                             'max_steps': len(actions) + 1})
        env = wte.WebAgentTextEnv(observation_mode=step_mode, server=server)
        env.reset(session=0)
        bad_obs = bad_act = None
        for i, action in enumerate(actions):
            if a.detour:
                if live['done']:
                    break
                ours_obs, ours_actions = live['observation'], live['actions']
            else:
                ours_obs, ours_actions = rec['steps'][i]['obs'], rec['steps'][i]['actions']
            theirs_obs = env.observation
            info = env.get_available_actions()
            if info['has_search_bar']:
                theirs_act = ['search']
                ours_act = ['search'] if all(x.startswith('search[') for x in ours_actions) else ours_actions
            else:
                theirs_act = [f'click[{x}]' for x in info['clickables'] if x != 'search']
                ours_act = ours_actions
            if a.dump:
                print(json.dumps({'goal_id': rec.get('goal_id'), 'step': i, 'obs': theirs_obs, 'actions': theirs_act}))
            if bad_obs is None and ours_obs != theirs_obs:
                bad_obs = (i, ours_obs, theirs_obs)
            if bad_act is None and ours_act != theirs_act:
                bad_act = (i, ours_act, theirs_act)
            if a.detour:
                live = ours.ask({'op': 'step', 'action': action})
                current['reward'] = live.get('reward', 0.0)
            env.step(action)
        if bad_obs is None and rec.get('goal_id') is not None:
            # the page the episode ends on (the done page after Buy Now)
            final = live['observation'] if a.detour else ours.last_observation(rec['goal_id'], step_mode, actions)
            if final != env.observation:
                bad_obs = (len(actions), final, env.observation)
        obs_bad += bad_obs is not None
        act_bad += bad_act is not None
        if (bad_obs or bad_act) and shown < a.show:
            shown += 1
            print(f'--- goal {rec.get("goal_id")} ({step_mode})')
            if bad_obs:
                i, o, t = bad_obs
                k = first_difference(o, t)
                print(f'  step {i} observation differs at char {k}:\n    ours:    {o[max(0, k - 60):k + 60]!r}\n'
                      f'    webshop: {t[max(0, k - 60):k + 60]!r}')
            if bad_act:
                i, o, t = bad_act
                print(f'  step {i} valid actions differ:\n    ours:    {o}\n    webshop: {t}')
    ours.close()
    print(f'{episodes} episodes ({mode}{", with a detour" if a.detour else ""}): {obs_bad} with an observation mismatch, '
          f'{act_bad} with a valid-action mismatch')
    return 1 if obs_bad or act_bad else 0


if __name__ == '__main__':
    sys.exit(main())
