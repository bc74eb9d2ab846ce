using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace PrecisionPolicy.Tests;

/// <summary>
/// An awaitable that always resumes the awaiting method on a thread started for it: what flows across
/// <c>await</c> (an <see cref="AsyncLocal{T}"/>) is still there after it, what is per thread is not.
/// </summary>
internal readonly struct ResumeOnNewThread : INotifyCompletion
{
    public ResumeOnNewThread GetAwaiter() => this;
    public bool IsCompleted => false;
    public void OnCompleted(Action continuation) => new Thread(() => continuation()).Start();
    public void GetResult() { }
}
