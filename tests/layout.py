"Arrays with the same values in different memory layouts: no result may depend on the layout."
import numpy as np

LAYOUTS = ('C', 'F', 'strided')

def laid_out(a, layout):
    "A copy of `a` in C order, in Fortran order, or as a view that skips every other element of the last axis."
    a = np.asarray(a)
    if layout == 'C' or a.ndim == 0: return a.copy()
    if layout == 'F': return np.asfortranarray(a)
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    wide[..., ::2] = a
    return wide[..., ::2]
