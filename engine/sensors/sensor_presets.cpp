// Datasheet presets of common instruments. Tolerances quoted as "±x" in a standard or
// datasheet are taken as 3 sigma of the per-world turn-on bias.
#include <cmath>

#include "engine/sensors/sensor_block.h"

namespace ftwin {
namespace {

SensorModelParams Params(double initial_bias_sigma, double noise_sigma, double resolution,
                         double lag_s, double range_min, double range_max,
                         double sample_period_s = 0.0) {
  SensorModelParams p;
  p.initial_bias_sigma = initial_bias_sigma;
  p.noise_sigma = noise_sigma;
  p.resolution = resolution;
  p.lag_time_constant_s = lag_s;
  p.range_min = range_min;
  p.range_max = range_max;
  p.sample_period_s = sample_period_s;
  return p;
}

std::vector<SensorPreset> MakePresets() {
  std::vector<SensorPreset> presets;
  presets.push_back({"rtd_pt100_class_a", "K",
                     "Pt100 RTD, IEC 60751 class A (±0.15 K at 0 °C), in a thermowell (tau 8 s), "
                     "-200..850 °C, 0.01 K transmitter resolution",
                     Params(0.05, 0.005, 0.01, 8.0, 73.15, 1123.15)});
  presets.push_back({"thermocouple_type_k_class_1", "K",
                     "type K thermocouple, IEC 60584 class 1 (±1.5 K), tau 2 s, -40..1000 °C, "
                     "0.1 K resolution",
                     Params(0.5, 0.05, 0.1, 2.0, 233.15, 1273.15)});
  presets.push_back({"pressure_transmitter_10bar", "Pa",
                     "0..10 bar gauge transmitter, 0.1 % full-scale accuracy, 50 ms response",
                     Params(333.0, 100.0, 10.0, 0.05, 0.0, 1.0e6)});
  presets.push_back({"flow_meter_coriolis_10kgs", "kg/s",
                     "Coriolis mass flow meter 0..10 kg/s, 0.1 % of full scale, 0.1 s damping",
                     Params(3.3e-3, 1.0e-3, 1.0e-4, 0.1, 0.0, 10.0)});
  presets.push_back({"level_radar_10m", "m", "radar level transmitter 0..10 m, ±2 mm, 1 s damping",
                     Params(6.7e-4, 5.0e-4, 1.0e-4, 1.0, 0.0, 10.0)});
  presets.push_back({"power_meter_class_1", "W",
                     "site power meter, IEC 62053-21 class 1 (±1 %) at 100 kW scale, 1 s updates, "
                     "1 W resolution",
                     Params(333.0, 50.0, 1.0, 0.0, -1.0e6, 1.0e6, 1.0)});
  presets.push_back({"grid_frequency_meter", "Hz", "grid frequency meter, ±1 mHz, 100 ms updates",
                     Params(3.3e-4, 2.0e-4, 1.0e-4, 0.0, 45.0, 65.0, 0.1)});
  presets.push_back({"voltage_meter_400v", "V", "line voltage meter 0..500 V, 0.2 % class",
                     Params(0.33, 0.1, 0.01, 0.0, 0.0, 500.0, 0.1)});
  presets.push_back({"battery_cell_voltage", "V",
                     "BMS cell-voltage channel, ±1 mV, 1 mV resolution, 0..5 V",
                     Params(3.3e-4, 2.0e-4, 1.0e-3, 0.0, 0.0, 5.0)});
  presets.push_back({"battery_cell_temperature", "K",
                     "BMS cell NTC thermistor (10 kOhm, ±1 K), glued to the can: tau 20 s, "
                     "0.1 K resolution, -40..100 °C",
                     Params(0.33, 0.05, 0.1, 20.0, 233.15, 373.15)});
  presets.push_back({"battery_pack_voltage", "V",
                     "BMS high-voltage pack measurement 0..1000 V, ±0.1 %, 10 ms filter, 0.01 V",
                     Params(0.33, 0.05, 0.01, 0.01, 0.0, 1000.0)});
  presets.push_back({"hydrogen_purity_analyzer", "1",
                     "hydrogen purity (mole fraction) analyzer, ±0.01 %, 30 s response",
                     Params(3.3e-5, 1.0e-5, 1.0e-5, 30.0, 0.0, 1.0)});
  presets.push_back({"vibration_velocity_iso10816", "m/s",
                     "vibration velocity channel (ISO 10816 RMS), 0..50 mm/s, ±5 %",
                     Params(0.0, 2.0e-5, 1.0e-5, 1.0, 0.0, 0.05)});
  presets.push_back({"joint_encoder_4096cpr", "rad",
                     "incremental joint encoder, 4096 counts per revolution after quadrature",
                     Params(0.0, 0.0, 2.0 * M_PI / 4096.0, 0.0, -INFINITY, INFINITY)});
  presets.push_back({"joint_torque_sensor", "N*m",
                     "strain-gauge joint torque sensor ±300 N·m, 0.1 N·m noise, 1 kHz",
                     Params(0.5, 0.1, 0.01, 0.0005, -300.0, 300.0)});
  presets.push_back({"wrist_force_axis", "N",
                     "6-axis wrist F/T sensor, one force axis: ±660 N, 0.06 N noise, 1 kHz",
                     Params(0.3, 0.06, 0.0125, 0.0, -660.0, 660.0)});
  presets.push_back({"weld_current_hall", "A",
                     "Hall-effect weld current sensor 0..600 A, 1 % class, 1 ms response",
                     Params(2.0, 1.0, 0.5, 0.001, 0.0, 600.0)});
  {
    SensorModelParams imu = Params(0.0, 0.02, 0.0, 0.0, -160.0, 160.0);
    imu.gauss_markov_sigma = 4.0e-4;
    imu.gauss_markov_tau_s = 100.0;
    imu.initial_bias_sigma = 0.02;
    presets.push_back({"imu_accelerometer_axis", "m/s^2",
                       "MEMS IMU accelerometer axis, ±16 g, 40 µg bias instability (GM, 100 s), "
                       "20 mg turn-on bias",
                       imu});
  }
  {
    SensorModelParams gyro = Params(0.0, 1.0e-3, 0.0, 0.0, -35.0, 35.0);
    gyro.gauss_markov_sigma = 2.0e-5;
    gyro.gauss_markov_tau_s = 100.0;
    gyro.initial_bias_sigma = 1.0e-3;
    presets.push_back({"imu_gyro_axis", "rad/s",
                       "MEMS IMU gyro axis, ±2000 °/s, 4 °/h bias instability (GM, 100 s)", gyro});
  }
  presets.push_back({"metrology_film_thickness", "m",
                     "ellipsometer film thickness gauge, 0.1 nm repeatability, 0.01 nm display",
                     Params(0.0, 1.0e-10, 1.0e-11, 0.0, 0.0, 1.0e-4)});
  presets.push_back({"metrology_critical_dimension", "m",
                     "CD-SEM critical dimension gauge, 0.3 nm precision",
                     Params(0.0, 3.0e-10, 1.0e-11, 0.0, 0.0, 1.0e-5)});
  presets.push_back({"metrology_overlay", "m",
                     "image-based overlay metrology, 0.1 nm precision, +-100 nm range",
                     Params(0.0, 1.0e-10, 1.0e-11, 0.0, -1.0e-7, 1.0e-7)});
  presets.push_back({"chamber_pressure_gauge", "Pa",
                     "capacitance manometer 0..133 Pa (1 Torr), 0.12 % of reading, 30 ms",
                     Params(0.05, 0.01, 0.001, 0.03, 0.0, 133.3)});
  return presets;
}

}  // namespace

const std::vector<SensorPreset>& SensorPresets() {
  static const std::vector<SensorPreset> presets = MakePresets();
  return presets;
}

const SensorPreset* FindSensorPreset(const std::string& name) {
  for (const SensorPreset& preset : SensorPresets())
    if (preset.name == name) return &preset;
  return nullptr;
}

}  // namespace ftwin
