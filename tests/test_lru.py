"""The bounded cache readers keep unit templates in."""

from xlplan.lru import Recent


def test_recent_keeps_the_most_recently_used() -> None:
    cache: Recent[str, int] = Recent(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)  # so "b" goes
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2 and cache.made == 3
