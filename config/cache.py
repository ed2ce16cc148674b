"""Django's Redis cache backend, with one `redis.Redis` client per connection pool.

Django's own `RedisCacheClient.get_client()` builds a new `redis.Redis` object for every cache call;
each one rebuilds redis-py's table of response callbacks (about 0.3 ms of CPU), more than the round
trip itself costs on a local Redis. The client objects are thread-safe (they take connections from the
pool per command), so one per pool serves every thread of the process. Selected by `CACHE_URL=redis://…`
in `config/settings.py`.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
