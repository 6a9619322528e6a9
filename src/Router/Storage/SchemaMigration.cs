namespace ComfyOperator.Router.Storage;

/// <summary>One numbered schema change. Versions start at 1 and only grow; a released migration never changes.</summary>
/// <param name="Version">Its number, recorded in <c>schema_migrations</c> once applied.</param>
/// <param name="Name">What it does, recorded with the number.</param>
/// <param name="Sql">The statements, run in one transaction.</param>
internal sealed record SchemaMigration(int Version, string Name, string Sql);
