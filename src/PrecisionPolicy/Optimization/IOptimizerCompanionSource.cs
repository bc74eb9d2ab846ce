using System.Collections.Generic;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// A module that brings its own <see cref="IOptimizerCompanion"/>s. A <see cref="MasterWeightOptimizer"/> created over
/// a module adds the companions of every module in its tree (the root included) that implements this, so state such as
/// an FP8 module's amax histories follows the steps and checkpoints of whatever optimizer trains a model containing it.
/// The generated code of an <c>[Autocast(Precision.FP8)]</c> class implements it; so can a hand-written module.
/// </summary>
/// <remarks>
/// This is the optimizer's half of the seam: the optimizer names no subsystem, each subsystem comes to it. Companions
/// that share a name are told apart in checkpoints by the order they are added in, which is the module tree's order.
/// </remarks>
public interface IOptimizerCompanionSource
{
    /// <summary>
    /// The companions of this module for an optimizer over a tree that contains it: the same instances on every call
    /// (the optimizer adds each once), or none.
    /// </summary>
    IEnumerable<IOptimizerCompanion> GetOptimizerCompanions();
}
