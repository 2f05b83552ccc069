"""Trace once, replay on a batch: a traced scalar graph compiled to a few numpy calls per run.

The user writes the computation for ONE example with scalar Values; `Graph.compile(inputs)` turns
its trace into a `Program` that evaluates it for a whole batch at once. What happens, in order,
one module each:

- `ir`: the traced graph copied into nodes that may be rewritten (the traced graph and the scalar
  engine stay as they are, and remain the reference);
- `passes`: rewrites before anything is scheduled: chains of + and − become one sum, sums of
  products p·x (a weight times a per-example value) become matrix products, and what is the same
  for every example is computed once per run;
- `schedule`: the graph split into a once-per-run stage and a per-example stage, each in groups
  of nodes one numpy call computes (the number of groups follows the depth, not the width);
- `layout`, `lowered`, `steps`: the rows of each buffer (one block of consecutive rows per group,
  reused once dead), the plan of each kind of run, and the steps that run the groups forward and
  backward; `kernels`: the hottest op rows written to fill those buffers in place;
- `exact`: the replay of `compile(inputs, exact=True)`, in the scalar engine's order, bit for bit;
- `program`: `Program`, what a user holds: run it, read its listing, its memory.

Every op's forward and derivative come from its row of the op table (`batched`, `local`, `vjp`);
the kernels compute the same numbers in place, checked bit for bit against the rows by the tests.
"""

from .program import MEMORY_LIMIT, Program

__all__ = ["MEMORY_LIMIT", "Program"]
