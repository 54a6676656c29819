"""The convolutional autoencoder: shapes, the loss against torch's own KL, step-wise training that
learns, and save → load that reproduces the model exactly."""
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from otcore import StepMetrics
from otcore.images import AEConfig, AutoencoderFileError, AutoencoderTrainer, ImageAutoencoder
from otcore.images.autoencoder import autoencoder_loss
from otcore.images.domains import digits_domain


@pytest.mark.parametrize("size, channels", [(8, 1), (16, 3), (32, 1)])
def test_shapes_for_sizes_and_channels(size, channels):
    model = ImageAutoencoder(AEConfig(size=size, channels=channels, latent=5, width=8))
    x = torch.rand(3, channels, size, size)
    z = model.encode(x)
    assert z.shape == (3, 5)
    y = model.decode(z)
    assert y.shape == x.shape and 0 <= y.min() and y.max() <= 1
    assert torch.allclose(model(x), y, atol=1e-6)        # forward = decode(mean code)
    with pytest.raises(ValueError, match="expected images of shape"):
        model.encode(torch.rand(3, channels, size + 1, size + 1))


def test_config_is_validated():
    for bad in (dict(size=12), dict(channels=2), dict(latent=0), dict(kl=-1.0), dict(lr=0.0), dict(holdout=0.6)):
        with pytest.raises(ValueError):
            AEConfig(**bad)
    c = AEConfig(latent=7)
    assert AEConfig.from_dict({**c.to_dict(), "unknown": 1}) == c


def test_kl_term_matches_torch_distributions():
    torch.manual_seed(0)
    model = ImageAutoencoder(AEConfig(latent=3, width=8))
    x = torch.rand(6, 1, 8, 8)
    _, terms = autoencoder_loss(model, x, kl_weight=1.0, gen=torch.Generator().manual_seed(0))
    with torch.no_grad():
        mean, logvar = model.stats(x)
    q = Normal(mean, (0.5 * logvar).exp())
    expected = kl_divergence(q, Normal(torch.zeros_like(mean), torch.ones_like(mean))).sum(1).mean()
    assert terms["kl"] == pytest.approx(float(expected), rel=1e-5)
    # with kl_weight 0 the loss is the pixel cross-entropy of the mean code's reconstruction
    with torch.no_grad():
        loss, _ = autoencoder_loss(model, x, kl_weight=0.0)
        bce = torch.nn.functional.binary_cross_entropy(model(x), x, reduction="sum") / len(x)
    assert float(loss) == pytest.approx(float(bce), rel=1e-4)


def test_stepwise_training_learns_resumes_and_reports():
    images = digits_domain(0).images[:120]
    cfg = AEConfig(latent=4, width=16, steps=100, batch=32, lr=3e-3, seed=0)
    trainer = AutoencoderTrainer(images, cfg)
    before = trainer.validation_loss()
    first = list(trainer.run(20))
    assert len(first) == 20 and all(isinstance(m, StepMetrics) and m.stage == "autoencoder" for m in first)
    assert [m.step for m in first] == list(range(1, 21)) and trainer.progress() == {"autoencoder": (20, 100)}
    rest = list(trainer.run())
    assert rest[0].step == 21 and trainer.done and rest[-1].step == 100
    assert "held-out reconstruction" in rest[-1].losses
    after = trainer.validation_loss()
    assert after < 0.6 * before                     # it learned to reconstruct unseen digits
    with pytest.raises(RuntimeError, match="finished"):
        trainer.step()


def test_training_is_seeded():
    images = digits_domain(1).images[:40]
    runs = []
    for _ in range(2):
        t = AutoencoderTrainer(images, AEConfig(width=8, steps=5, seed=3))
        list(t.run())
        runs.append(t.model.encode(images))
    assert torch.equal(runs[0], runs[1])


def test_bad_training_input_is_refused():
    with pytest.raises(ValueError, match="shape"):
        AutoencoderTrainer(torch.rand(10, 1, 16, 16), AEConfig())
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        AutoencoderTrainer(torch.rand(10, 1, 8, 8) * 2, AEConfig())
    with pytest.raises(ValueError, match="too few"):
        AutoencoderTrainer(torch.rand(2, 1, 8, 8), AEConfig())


def test_save_load_is_identical_and_bad_files_are_explained(tmp_path):
    t = AutoencoderTrainer(digits_domain(2).images[:50], AEConfig(latent=3, width=8, steps=10, seed=1))
    list(t.run())
    model = t.model
    x = digits_domain(2).images[50:60]
    for loaded in (ImageAutoencoder.load(model.save(tmp_path / "ae.pt")), ImageAutoencoder.load(model.to_bytes())):
        assert loaded.config == model.config
        assert torch.equal(loaded.encode(x), model.encode(x)) and torch.equal(loaded(x), model(x))
    with pytest.raises(AutoencoderFileError, match="not an autoencoder"):
        ImageAutoencoder.load(b"not a torch file")
    bad = tmp_path / "flowlike.pt"
    torch.save({"format": "otflow", "version": 1}, bad)
    with pytest.raises(AutoencoderFileError, match="not an autoencoder"):
        ImageAutoencoder.load(bad)
    newer = model.state()
    newer["version"] = 99
    torch.save(newer, tmp_path / "newer.pt")
    with pytest.raises(AutoencoderFileError, match="newer version"):
        ImageAutoencoder.load(tmp_path / "newer.pt")
    broken = model.state()
    broken["weights"].pop(next(iter(broken["weights"])))
    torch.save(broken, tmp_path / "broken.pt")
    with pytest.raises(AutoencoderFileError, match="damaged"):
        ImageAutoencoder.load(tmp_path / "broken.pt")
