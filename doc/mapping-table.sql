-- The mapping tutorial's table (doc/manual.md): one line per run of a
-- database, each figure a mean over its frames rows.
--   sqlite3 -header -column mapping.db < doc/mapping-table.sql
SELECT replace(replace(model_path, rtrim(model_path, replace(model_path, '/', '')), ''), '.json', '') AS model,
       json_extract(config, '$."core.neurons_per_core"') AS npc,
       json_extract(config, '$."map.placement"') AS placement,
       json_extract(config, '$."run.cores"') AS cores,
       mesh_width || 'x' || mesh_height AS mesh,
       printf('%.1f', avg(f.hops)) AS hops,
       printf('%.1f', avg(f.late_spikes)) AS late,
       printf('%.3f', avg(f.latency_ps) / 1e6) AS latency_us,
       printf('%.4f', avg(f.e_sop_pj) / 1e6) AS e_sop_uj,
       printf('%.4f', avg(f.e_hop_pj) / 1e6) AS e_hop_uj,
       printf('%.4f', avg(f.e_static_pj) / 1e6) AS e_static_uj,
       printf('%.4f', avg(f.e_total_pj) / 1e6) AS e_total_uj,
       printf('%.2f', 100.0 * avg(f.prediction = f.label)) AS acc
FROM runs r JOIN frames f USING (run_id)
GROUP BY run_id ORDER BY run_id;
