"""A hint to the processor to start loading an array element that a kernel will read soon.

The cascade walks positions in trigger order, which is random in memory: every liquidation, stop or ADL fill
begins with cache misses on the row's size, entry, wallet and prices. While one row is being worked on, the
next row in the sorted index is known, so its fields can be requested ahead; the work then overlaps the
memory latency. A prefetch changes no value, only when data arrives (docs/engine.md §6).
"""

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from sim._jit import DISABLED


def _prefetch_name():
    """The LLVM intrinsic's name: its pointer type is in the name, opaque (``p0``) on newer LLVM builds."""
    opaque = getattr(ir.PointerType(ir.IntType(8)), "is_opaque", False)
    return "llvm.prefetch.p0" if opaque else "llvm.prefetch.p0i8"


@intrinsic
def _prefetch(typingctx, arr, i):
    """Prefetch ``arr[i]`` for reading, into all cache levels; ``i`` must be within bounds."""
    sig = types.void(arr, i)

    def codegen(context, builder, signature, args):
        aryty, _ = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), _prefetch_name()
        )
        # read (0), highest locality (3), data cache (1)
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


if DISABLED:

    def prefetch_nb(arr, i):
        """No-op when the kernels run as plain Python."""
else:
    prefetch_nb = _prefetch
