namespace ComfyOperator.Observability.Prometheus;

/// <summary>How measurements of one exported family combine.</summary>
internal enum MetricKind
{
    /// <summary>Counter: measurements are increments.</summary>
    CounterAdd,

    /// <summary>ObservableCounter: measurements are the running total.</summary>
    CounterSet,

    /// <summary>UpDownCounter: measurements are increments, may go down.</summary>
    GaugeAdd,

    /// <summary>Gauge, ObservableGauge, ObservableUpDownCounter: measurements are the current value.</summary>
    GaugeSet,

    Histogram,
}
