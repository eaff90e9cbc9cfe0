"""The tolerances of the tests, each named once with its reason (as Brian2's ``assert_allclose`` scales its
tolerance by the precision of the dtype). A test compares against something independent; how close it must
come is one of these, never a bare number.

Float64's machine epsilon is 2.2e-16: one rounding of an O(1) value moves it by at most that.
"""

#: a handful of float64 roundings of O(1) values: the same arithmetic in another order, an exact identity
ROUNDING = 1e-15
#: a sum or product of a few dozen rounded terms (a propagator's entries, a short recurrence)
SUMMATION = 1e-14
#: a closed form against a simulation of the same equation: thousands of steps, each adding its rounding,
#: and the closed form's own rounding of exponentials (1e4 steps x 1e-16 x safety factor 1e2)
CLOSED_FORM = 1e-12
#: two numerical evaluations of one quantity that are not term by term the same (pairwise against
#: vectorised sums, a root found by a solver, a quadrature)
NUMERICAL = 1e-10
#: a quantity accumulated over many spikes, samples or steps, or a quotient of such (van Rossum sums, a spike
#: label's difference in steps): each term's rounding adds up
ACCUMULATED = 1e-9
