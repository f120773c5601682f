"""Shared by the engines' tests: what Python's cyclic garbage collector would have to free."""
import gc

def cyclic_garbage(step, kind, repeat=1):
    """Run `step()` `repeat` times with the collector off, then return every object of type `kind`
    that only the collector could free (reference cycles); an empty list means refcounting did it all."""
    gc.collect()
    was = gc.isenabled(); gc.disable()
    try:
        for _ in range(repeat): step()
        gc.set_debug(gc.DEBUG_SAVEALL)   # keep what the collector finds, so we can look at it
        gc.collect()
        return [o for o in gc.garbage if isinstance(o, kind)]
    finally:
        gc.set_debug(0); gc.garbage.clear()
        if was: gc.enable()
