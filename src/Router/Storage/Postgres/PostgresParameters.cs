using Npgsql;
using NpgsqlTypes;

namespace ComfyOperator.Router.Storage.Postgres;

/// <summary>Typed parameters for the PostgreSQL stores.</summary>
internal static class PostgresParameters
{
    /// <summary>Adds a typed parameter: a null needs its type, or PostgreSQL cannot tell what <c>@x IS NULL</c> compares.</summary>
    public static void Add(NpgsqlParameterCollection parameters, string name, NpgsqlDbType type, object? value) =>
        parameters.Add(new NpgsqlParameter(name, type) { Value = value ?? DBNull.Value });

    public static void Add(NpgsqlCommand command, string name, NpgsqlDbType type, object? value) => Add(command.Parameters, name, type, value);
}
