"""The autoencoder's colour path and domain head (the 32 × 32 RGB preset): the decoder's colour
gain bounds every channel, the loss is still the pixel cross-entropy, the domain head learns to
tell two domains apart and needs their labels, and files without the new fields still load."""
import pytest
import torch

from otcore.images import AEConfig, AutoencoderTrainer, ImageAutoencoder
from otcore.images.autoencoder import autoencoder_loss, two_domains
from otcore.images.domains import digits_domain
from otcore.seeding import init_layers

RGB = AEConfig(size=16, channels=3, latent=5, width=8, colour_path=True)


def test_the_32x32_rgb_preset_uses_both_and_the_digits_neither():
    preset = AEConfig.for_images(32, 3)
    assert preset.colour_path and preset.domain_weight > 0
    assert not AEConfig().colour_path and AEConfig().domain_weight == 0
    assert not hasattr(ImageAutoencoder(AEConfig()), "colour_gain")


def test_the_colour_gain_bounds_each_channel_of_every_decoded_image():
    model = init_layers(ImageAutoencoder(RGB), 0)
    z = torch.randn(7, 5, generator=torch.Generator().manual_seed(1)) * 3
    with torch.no_grad():
        images = model.decode(z)
        gain = torch.sigmoid(model.colour_gain(z))
        grey = torch.sigmoid(model.decode_logits(z))
    assert images.shape == (7, 3, 16, 16)
    assert torch.allclose(images, grey * gain[:, :, None, None], atol=1e-6)
    assert (images.flatten(2).amax(2) <= gain + 1e-6).all()


def test_the_encoder_reads_the_colour_of_the_image():
    model = init_layers(ImageAutoencoder(RGB), 0)
    x = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        a = model.encode(x)
        b = model.encode(x[:, [2, 0, 1]])           # same pixels, channels rotated
    assert a.shape == (4, 5) and not torch.allclose(a, b)


def test_with_the_colour_path_the_loss_is_still_the_pixel_cross_entropy():
    model = init_layers(ImageAutoencoder(RGB), 3)
    x = torch.rand(5, 3, 16, 16, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        loss, terms = autoencoder_loss(model, x, kl_weight=0.0)
        bce = torch.nn.functional.binary_cross_entropy(model(x), x, reduction="sum") / len(x)
        mse = float(((model(x) - x) ** 2).mean())
    assert float(loss) == pytest.approx(float(bce), rel=1e-4)
    assert terms["reconstruction"] == pytest.approx(mse, rel=1e-5) and "domain" not in terms


def test_config_and_labels_are_checked():
    with pytest.raises(ValueError, match="RGB"):
        AEConfig(channels=1, colour_path=True)
    with pytest.raises(ValueError, match="domain_weight"):
        AEConfig(domain_weight=-1.0)
    images = digits_domain(0).images[:30]
    cfg = AEConfig(latent=2, width=4, steps=2, domain_weight=1.0)
    with pytest.raises(ValueError, match="labels"):
        AutoencoderTrainer(images, cfg)
    with pytest.raises(ValueError, match="labels"):
        AutoencoderTrainer(images, cfg, torch.zeros(29))
    with pytest.raises(ValueError, match="labels"):
        AutoencoderTrainer(images, cfg, torch.full((30,), 2.0))


def test_the_domain_head_learns_to_tell_the_two_domains_apart():
    zeros, ones = digits_domain(0).images[:60], digits_domain(1).images[:60]
    images, labels = two_domains(zeros, ones)
    assert labels.tolist() == [0.0] * 60 + [1.0] * 60 and torch.equal(images[60:], ones)
    cfg = AEConfig(latent=3, width=8, steps=60, batch=32, lr=3e-3, domain_weight=20.0, seed=0)
    trainer = AutoencoderTrainer(images, cfg, labels)
    history = list(trainer.run())
    assert "domain" in history[-1].losses and history[-1].losses["domain"] < history[0].losses["domain"]
    model = trainer.model
    with torch.no_grad():
        logits = model.domain_head(model.encode(images))[:, 0]
    assert float(((logits > 0).float() == labels).float().mean()) >= 0.95


def test_files_round_trip_and_files_from_before_the_new_fields_still_load():
    cfg = RGB.replace(domain_weight=5.0)
    model = init_layers(ImageAutoencoder(cfg), 5).eval()
    x = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(6))
    back = ImageAutoencoder.load(model.to_bytes())
    assert back.config == cfg and torch.equal(back(x), model(x))
    old = init_layers(ImageAutoencoder(AEConfig(latent=3, width=8)), 1).eval().state()
    for name in ("colour_path", "domain_weight"):
        del old["config"][name]
    loaded = ImageAutoencoder.from_state(old)
    assert not loaded.config.colour_path and loaded.config.domain_weight == 0
