using System.Reflection;
using ComfyOperator.Router.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace ComfyOperator.Router.Tests.Support;

/// <summary>
/// Wraps the router's real run store so chosen calls fail (a locked or corrupt database) while the
/// rest work. <see cref="Fault"/> gets the method name and returns the exception to fail with, or null.
/// </summary>
internal sealed class FaultyRunStore
{
    public Func<string, Exception?> Fault { get; set; } = _ => null;

    /// <summary>Replaces the registered <see cref="IRunStore"/> with a faulty wrapper around the same implementation.</summary>
    public void Install(IServiceCollection services)
    {
        var original = services.Last(d => d.ServiceType == typeof(IRunStore));
        services.Remove(original);
        services.AddSingleton(sp => Wrap(original.ImplementationFactory is { } factory
            ? (IRunStore)factory(sp)
            : (IRunStore)ActivatorUtilities.CreateInstance(sp, original.ImplementationType!)));
    }

    private IRunStore Wrap(IRunStore inner)
    {
        var proxy = DispatchProxy.Create<IRunStore, Proxy>();
        ((Proxy)(object)proxy).Attach(this, inner);
        return proxy;
    }

#pragma warning disable CA1852 // DispatchProxy derives the proxy type from this class at run time, so it cannot be sealed.
    internal class Proxy : DispatchProxy
#pragma warning restore CA1852
    {
        private FaultyRunStore _owner = null!;
        private IRunStore _inner = null!;

        public void Attach(FaultyRunStore owner, IRunStore inner) => (_owner, _inner) = (owner, inner);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (_owner.Fault(targetMethod!.Name) is { } fault)
            {
                // Every IRunStore method is async: fail the way it would, with a faulted task.
                var resultType = targetMethod.ReturnType.IsGenericType ? targetMethod.ReturnType.GetGenericArguments()[0] : null;
                return resultType is null
                    ? Task.FromException(fault)
                    : typeof(Task).GetMethod(nameof(Task.FromException), 1, [typeof(Exception)])!.MakeGenericMethod(resultType).Invoke(null, [fault]);
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                throw ex.InnerException;
            }
        }
    }
}
